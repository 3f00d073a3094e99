#pragma once
// QueueWorkers: the worker loop every controller shares. N threads take keys from a WorkQueue
// and call `sync(key)`; an error re-queues the key with per-key exponential backoff
// (addRateLimited), success forgets its backoff. The queue's state is exported under upstream's
// metric names with label name=<controller>: workqueue_depth, workqueue_adds_total,
// workqueue_retries_total, workqueue_queue_duration_seconds and workqueue_work_duration_seconds
// (sum and count), plus berth_controller_sync_duration_seconds{controller} and
// berth_controller_sync_errors_total{controller}.
//
// Thread-safety: enqueue()/queue() from any thread (event handlers); start()/stop() from the
// owning thread.
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/value.hpp>

#include "client/work_queue.h"
#include "core/status.h"
#include "metrics/metrics.h"

namespace berth::controllers {

class QueueWorkers {
 public:
  using SyncFn = std::function<core::Status(const std::string& key)>;
  QueueWorkers(std::string name, metrics::Registry& metrics, SyncFn sync);
  ~QueueWorkers();

  client::WorkQueue& queue() { return queue_; }
  void enqueue(const std::string& key) { queue_.add(key); }

  void start(int workers);
  void stop();

 private:
  void workerLoop();
  struct QueueSet;
  static std::shared_ptr<QueueSet> queueSetFor(metrics::Registry& metrics);

  const std::string name_;
  SyncFn sync_;
  client::WorkQueue queue_;
  metrics::Histogram& syncDuration_;
  metrics::Counter& syncErrors_;
  std::vector<std::thread> threads_;
  std::shared_ptr<QueueSet> queues_;
};

// "namespace/name" (or "name" for cluster-scoped objects) of an object, the work-queue key.
std::string keyOf(const boost::json::value& obj);
// Splits a key back; ns is empty for a cluster-scoped key.
void splitKey(const std::string& key, std::string& ns, std::string& name);

}  // namespace berth::controllers
