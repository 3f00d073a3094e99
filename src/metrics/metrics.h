#pragma once
// Prometheus metrics for every Berth component: counters, gauges and histograms with labels, and
// callbacks that compute samples at scrape time, kept in a Registry that encodes them in the
// Prometheus text exposition format (version 0.0.4), which is what `/metrics` serves upstream.
// Names, help texts, label names and histogram buckets are the caller's; components use
// upstream's (apiserver_request_total, ...) so existing dashboards and alerts apply.
//
// Thread-safety: everything is safe from any thread. Updating a metric is lock-free (atomics);
// finding a labelled child takes a shared lock (an exclusive one only the first time a label
// combination is seen), so hot paths may also keep the child reference, which stays valid for the
// registry's lifetime. Encoding reads atomics without stopping writers: a scrape is a consistent
// view of each value, not of all values at one instant (as in client_golang).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace berth::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `upperBounds` strictly increasing; the +Inf bucket is implicit.
  explicit Histogram(const std::vector<double>& upperBounds);
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per upper bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upperBounds() const { return bounds_; }

 private:
  const std::vector<double>& bounds_;                // owned by the family
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
  std::atomic<double> sum_{0};
};

// Upstream apiserver_request_duration_seconds buckets (seconds).
const std::vector<double>& requestDurationBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric name with its children, one per label combination.
template <class Metric>
class Family {
 public:
  Family(std::vector<std::string> labelNames, std::vector<double> buckets = {})
      : labelNames_(std::move(labelNames)), buckets_(std::move(buckets)) {}
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child for `values` (one per label name, in order), created on first use. A wrong
  // number of values is a programming error: extra ones are dropped, missing ones are "".
  Metric& with(LabelValues values);
  // The child of a family without labels.
  Metric& get() { return with({}); }

  const std::vector<std::string>& labelNames() const { return labelNames_; }
  // Calls fn(labelValues, metric) for each child in label order.
  template <class Fn>
  void forEach(Fn fn) const {
    std::shared_lock lock(mu_);
    for (const auto& [values, metric] : children_) fn(values, *metric);
  }

 private:
  const std::vector<std::string> labelNames_;
  const std::vector<double> buckets_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<Metric>> children_;  // guarded by mu_
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// A sample computed at scrape time.
struct Sample {
  LabelValues labels;
  double value = 0;
};
using SampleFn = std::function<std::vector<Sample>()>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice returns the first registration (label names must agree).
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> buckets);
  // Counter or gauge whose samples `fn` computes at each scrape (from another thread: `fn`
  // must be thread-safe and must not call back into the registry).
  void computed(std::string name, std::string help, Type type, std::vector<std::string> labels,
                SampleFn fn);

  // Every family, sorted by name, in the text exposition format.
  std::string encode() const;

 private:
  struct Entry;
  Entry& entry(std::string name, std::string help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;  // guarded by mu_
};

// The Content-Type of encode()'s output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// How Go's client formats a sample value (strconv 'g', shortest): "5", "0.005", "1.5e+06",
// "+Inf", "NaN".
std::string formatValue(double v);

}  // namespace berth::metrics
