#include "controllers/ttlafterfinished/ttl_after_finished_controller.h"

#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"
#include "controllers/ttlafterfinished/ttl_logic.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace ttlafterfinished;

const client::Resource kJobs{"batch", "v1", "jobs", true};

class TtlAfterFinishedController : public Controller {
 public:
  explicit TtlAfterFinishedController(ControllerContext& ctx)
      : client_(ctx.client),
        jobInformer_(ctx.informers.forResource(kJobs)),
        workers_("ttl_jobs_to_delete", ctx.metrics,
                 [this](const std::string& k) { return sync(k); }),
        workerCount_(ctx.workers) {
    auto consider = [this](const ObjectPtr& j) {
      if (!isBeingDeleted(*j) && needsCleanup(*j)) workers_.enqueue(keyOf(*j));
    };
    jobInformer_.addEventHandler(client::onEveryChange(consider, false));
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  // Seconds left (re-queued when positive); nullopt when the Job needs nothing.
  std::optional<std::chrono::seconds> due(const json::value& job, const std::string& key) {
    if (isBeingDeleted(job)) return std::nullopt;
    auto left = timeLeft(job, std::chrono::system_clock::now());
    if (left && left->count() > 0) {
      workers_.queue().addAfter(key, *left);
      return std::nullopt;
    }
    return left;
  }

  core::Status sync(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    ObjectPtr cached = jobInformer_.lister().get(ns, name);
    if (!cached || !due(*cached, key)) return core::Status();
    // The TTL may have changed since the cache saw it: decide on the newest version.
    auto fresh = client_.get(kJobs, ns, name);
    if (!fresh.ok()) return fresh.status().isNotFound() ? core::Status() : fresh.status();
    if (!due(*fresh, key)) return core::Status();
    json::value options{{"kind", "DeleteOptions"},
                        {"apiVersion", "v1"},
                        {"propagationPolicy", "Background"},
                        {"preconditions", {{"uid", uidOf(*fresh)}}}};
    auto r = client_.remove(kJobs, ns, name, &options);
    if (!r.ok() && !r.status().isNotFound() && !r.status().isConflict()) return r.status();
    return core::Status();
  }

  client::RestClient& client_;
  client::SharedInformer& jobInformer_;
  QueueWorkers workers_;
  int workerCount_;
};

}  // namespace

std::unique_ptr<Controller> newTtlAfterFinishedController(ControllerContext& ctx) {
  return std::make_unique<TtlAfterFinishedController>(ctx);
}

}  // namespace berth::controllers
