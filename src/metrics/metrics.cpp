// Metric types, the registry and the text exposition encoder (see metrics.h).
#include "metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <type_traits>

namespace berth::metrics {

Histogram::Histogram(const std::vector<double>& upperBounds)
    : bounds_(upperBounds),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(upperBounds.size() + 1)) {}

void Histogram::observe(double v) {
  // Bucket i counts observations in (bound[i-1], bound[i]]; the last is (bound[n-1], +Inf).
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& requestDurationBuckets() {
  static const std::vector<double> kBuckets = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8,
                                               1.0,   1.25,  1.5,  2,   3,   4,   5,   6,
                                               8,     10,    15,   20,  30,  45,  60};
  return kBuckets;
}

template <class Metric>
Metric& Family<Metric>::with(LabelValues values) {
  values.resize(labelNames_.size());
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[std::move(values)];
  if (!slot) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      slot = std::make_unique<Histogram>(buckets_);
    } else {
      slot = std::make_unique<Metric>();
    }
  }
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Go's strconv 'g' with shortest precision takes the exponent form when the decimal exponent
  // is < -4 or >= 6 (its eprec for shortest): 1e+06, 1.5e+06, 123456, 0.0001, 1e-05.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string scientific(buf, end);
  size_t e = scientific.find('e');
  int exponent = std::stoi(scientific.substr(e + 1));
  if (exponent < -4 || exponent >= 6) {
    // to_chars writes at least two exponent digits with a sign, as Go does ("1e+06").
    return scientific;
  }
  auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

namespace {

const char* typeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void appendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"} plus an optional extra label (a histogram's le); nothing when there are none.
void appendLabels(std::string& out, const std::vector<std::string>& names,
                  const LabelValues& values, std::string_view extraName = {},
                  std::string_view extraValue = {}) {
  if (names.empty() && extraName.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    appendEscaped(out, i < values.size() ? values[i] : std::string(), true);
    out += '"';
  }
  if (!extraName.empty()) {
    if (!first) out += ',';
    out += extraName;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

void appendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const LabelValues& values, double value, std::string_view extraName = {},
                  std::string_view extraValue = {}) {
  out += name;
  appendLabels(out, names, values, extraName, extraValue);
  out += ' ';
  out += formatValue(value);
  out += '\n';
}

}  // namespace

struct Registry::Entry {
  std::string name;
  std::string help;
  Type type;
  std::vector<std::string> labels;  // computed families
  std::unique_ptr<CounterFamily> counters;
  std::unique_ptr<GaugeFamily> gauges;
  std::unique_ptr<HistogramFamily> histograms;
  SampleFn computed;

  // A family without samples is left out, as client_golang does.
  void encode(std::string& out) const {
    std::string samples;
    encodeSamples(samples);
    if (samples.empty()) return;
    out += "# HELP ";
    out += name;
    out += ' ';
    appendEscaped(out, help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += typeName(type);
    out += '\n';
    out += samples;
  }

  void encodeSamples(std::string& out) const {
    if (counters) {
      counters->forEach([&](const LabelValues& values, const Counter& c) {
        appendSample(out, name, counters->labelNames(), values, c.value());
      });
    } else if (gauges) {
      gauges->forEach([&](const LabelValues& values, const Gauge& g) {
        appendSample(out, name, gauges->labelNames(), values, g.value());
      });
    } else if (histograms) {
      encodeHistograms(out);
    } else if (computed) {
      std::vector<Sample> samples = computed();
      std::sort(samples.begin(), samples.end(),
                [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
      for (const auto& s : samples) appendSample(out, name, labels, s.labels, s.value);
    }
  }

  void encodeHistograms(std::string& out) const {
    const auto& names = histograms->labelNames();
    std::string bucket = name + "_bucket";
    histograms->forEach([&](const LabelValues& values, const Histogram& h) {
      Histogram::Snapshot s = h.snapshot();
      const auto& bounds = h.upperBounds();
      for (size_t i = 0; i < bounds.size(); ++i) {
        appendSample(out, bucket, names, values, static_cast<double>(s.cumulative[i]), "le",
                     formatValue(bounds[i]));
      }
      appendSample(out, bucket, names, values, static_cast<double>(s.count), "le", "+Inf");
      appendSample(out, name + "_sum", names, values, s.sum);
      appendSample(out, name + "_count", names, values, static_cast<double>(s.count));
    });
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::entry(std::string name, std::string help, Type type) {
  auto& slot = entries_[name];
  if (!slot) {
    slot = std::make_unique<Entry>();
    slot->name = std::move(name);
    slot->help = std::move(help);
    slot->type = type;
  }
  return *slot;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), Type::kCounter);
  if (!e.counters) e.counters = std::make_unique<CounterFamily>(std::move(labels));
  return *e.counters;
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), Type::kGauge);
  if (!e.gauges) e.gauges = std::make_unique<GaugeFamily>(std::move(labels));
  return *e.gauges;
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), Type::kHistogram);
  if (!e.histograms) {
    e.histograms = std::make_unique<HistogramFamily>(std::move(labels), std::move(buckets));
  }
  return *e.histograms;
}

void Registry::computed(std::string name, std::string help, Type type,
                        std::vector<std::string> labels, SampleFn fn) {
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), type);
  e.labels = std::move(labels);
  e.computed = std::move(fn);
}

std::string Registry::encode() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : entries_) entries.push_back(e.get());
  }
  // Entries are never removed, so encoding outside the lock is safe (and a slow computed
  // family does not hold up registration).
  std::string out;
  for (const Entry* e : entries) e->encode(out);
  return out;
}

}  // namespace berth::metrics
