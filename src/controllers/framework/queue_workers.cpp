#include "controllers/framework/queue_workers.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

namespace berth::controllers {

namespace {
std::vector<double> syncBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}
}  // namespace

// Every QueueWorkers of one registry, read at scrape time: one set of workqueue_* families
// whose samples carry each queue's name (a registry keeps one sample function per name).
struct QueueWorkers::QueueSet {
  std::mutex mu;
  std::vector<QueueWorkers*> members;
};

std::shared_ptr<QueueWorkers::QueueSet> QueueWorkers::queueSetFor(metrics::Registry& metrics) {
  static std::mutex mu;
  static std::map<metrics::Registry*, std::weak_ptr<QueueSet>> sets;
  std::lock_guard lock(mu);
  if (auto existing = sets[&metrics].lock()) return existing;
  auto set = std::make_shared<QueueSet>();
  sets[&metrics] = set;
  using M = client::WorkQueue::Metrics;
  auto family = [&](const char* name, const char* help, metrics::Type type,
                    double (*field)(const M&)) {
    std::weak_ptr<QueueSet> weak = set;
    metrics.computed(name, help, type, {"name"}, [weak, field] {
      std::vector<metrics::Sample> out;
      auto s = weak.lock();
      if (!s) return out;
      std::lock_guard l(s->mu);
      for (QueueWorkers* q : s->members) out.push_back({{q->name_}, field(q->queue_.metrics())});
      return out;
    });
  };
  family("workqueue_depth", "Current depth of workqueue", metrics::Type::kGauge,
         [](const M& m) { return double(m.depth); });
  family("workqueue_adds_total", "Total number of adds handled by workqueue",
         metrics::Type::kCounter, [](const M& m) { return double(m.addsTotal); });
  family("workqueue_retries_total", "Total number of retries handled by workqueue",
         metrics::Type::kCounter, [](const M& m) { return double(m.retriesTotal); });
  family("workqueue_queue_duration_seconds_sum",
         "Seconds items stayed in workqueue before being requested (sum)",
         metrics::Type::kCounter, [](const M& m) { return m.queueDurationSecondsSum; });
  family("workqueue_queue_duration_seconds_count",
         "Items taken from workqueue (count of queue durations)", metrics::Type::kCounter,
         [](const M& m) { return double(m.queueDurationCount); });
  family("workqueue_work_duration_seconds_sum",
         "Seconds processing an item from workqueue took (sum)", metrics::Type::kCounter,
         [](const M& m) { return m.workDurationSecondsSum; });
  family("workqueue_work_duration_seconds_count",
         "Items processed from workqueue (count of work durations)", metrics::Type::kCounter,
         [](const M& m) { return double(m.workDurationCount); });
  return set;
}

QueueWorkers::QueueWorkers(std::string name, metrics::Registry& metrics, SyncFn sync)
    : name_(std::move(name)),
      sync_(std::move(sync)),
      syncDuration_(metrics
                        .histogram("berth_controller_sync_duration_seconds",
                                   "Time one sync of a key took, by controller.", {"controller"},
                                   syncBuckets())
                        .with({name_})),
      syncErrors_(metrics
                      .counter("berth_controller_sync_errors_total",
                               "Syncs that failed and were re-queued, by controller.",
                               {"controller"})
                      .with({name_})) {
  queues_ = queueSetFor(metrics);
  std::lock_guard lock(queues_->mu);
  queues_->members.push_back(this);
}

QueueWorkers::~QueueWorkers() {
  stop();
  std::lock_guard lock(queues_->mu);
  std::erase(queues_->members, this);
}

void QueueWorkers::start(int workers) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { workerLoop(); });
}

void QueueWorkers::stop() {
  queue_.shutDown();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void QueueWorkers::workerLoop() {
  while (auto key = queue_.get()) {
    auto begin = std::chrono::steady_clock::now();
    core::Status st = sync_(*key);
    syncDuration_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    if (st.ok()) {
      queue_.forget(*key);
    } else {
      syncErrors_.inc();
      queue_.addRateLimited(*key);
    }
    queue_.done(*key);
  }
}

std::string keyOf(const boost::json::value& obj) {
  const auto* meta = obj.as_object().if_contains("metadata");
  if (!meta || !meta->is_object()) return {};
  std::string ns, name;
  if (auto* n = meta->as_object().if_contains("namespace"); n && n->is_string())
    ns = n->as_string();
  if (auto* n = meta->as_object().if_contains("name"); n && n->is_string()) name = n->as_string();
  return ns.empty() ? name : ns + "/" + name;
}

void splitKey(const std::string& key, std::string& ns, std::string& name) {
  auto slash = key.find('/');
  if (slash == std::string::npos) {
    ns.clear();
    name = key;
  } else {
    ns = key.substr(0, slash);
    name = key.substr(slash + 1);
  }
}

}  // namespace berth::controllers
