#include "controllers/job/job_controller.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "client/event_recorder.h"
#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/workload_expectations.h"
#include "controllers/framework/pod_control.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"
#include "controllers/job/index_backoff.h"
#include "controllers/job/job_indexes.h"
#include "controllers/job/job_logic.h"
#include "controllers/job/pod_failure_policy.h"
#include "core/clock.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace job;

const client::Resource kJobs{"batch", "v1", "jobs", true};

std::string removeFinalizerPatch() {
  return std::string(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[")") +
         kTrackingFinalizer + R"("]}})";
}
constexpr long long kMaxPodCreateDeletePerSync = 500;
// Upstream DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
constexpr auto kPodFailureBackoff = std::chrono::seconds(10);
constexpr auto kMaxPodFailureBackoff = std::chrono::seconds(360);

class JobController : public Controller {
 public:
  explicit JobController(ControllerContext& ctx)
      : client_(ctx.client),
        jobInformer_(ctx.informers.forResource(kJobs)),
        podInformer_(ctx.informers.forResource(kPods)),
        recorder_(ctx.client, "job-controller"),
        workers_("job", ctx.metrics, [this](const std::string& k) { return sync(k); }),
        workerCount_(ctx.workers) {
    addControllerUidIndex(podInformer_);
    jobInformer_.addEventHandler(
        {[this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); },
         [this](const ObjectPtr&, const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); },
         [this](const client::DeletedObject& d) { workers_.enqueue(keyOf(*d.object)); }});
    podInformer_.addEventHandler(
        {[this](const ObjectPtr& p) {
           std::string key = ownerKey(*p);
           if (key.empty()) {
             enqueueAdopters(*p);
             return;
           }
           expectations_.creationObserved(key);
           workers_.enqueue(key);
         },
         [this](const ObjectPtr& o, const ObjectPtr& p) {
           std::string oldKey = ownerKey(*o);
           if (!oldKey.empty() && oldKey != ownerKey(*p)) workers_.enqueue(oldKey);  // released
           podChanged(*p, false);
         },
         [this](const client::DeletedObject& d) { podChanged(*d.object, true); }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  std::string ownerKey(const json::value& pod) const {
    const json::object* ref = controllerRefOf(pod);
    if (!ref || strAt(*ref, "kind") != "Job" || strAt(*ref, "apiVersion") != "batch/v1") return {};
    return strAt(metaOf(pod), "namespace") + "/" + strAt(*ref, "name");
  }

  // An orphan: every Job selecting it may adopt it.
  void enqueueAdopters(const json::value& pod) {
    if (controllerRefOf(pod) || isBeingDeleted(pod)) return;
    for (const ObjectPtr& j : ownersSelecting(jobInformer_.lister(), pod))
      workers_.enqueue(keyOf(*j));
  }

  void podChanged(const json::value& pod, bool deleted) {
    std::string key = ownerKey(pod);
    if (key.empty()) {
      if (!deleted) enqueueAdopters(pod);
      return;
    }
    if (deleted || isBeingDeleted(pod)) expectations_.deletionObserved(key, keyOf(pod));
    if (deleted || !hasFinalizer(pod)) finalizerRemovalObserved(key, uidOf(pod));
    workers_.enqueue(key);
  }

  std::set<std::string> expectedRemovals(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = expectedRm_.find(key);
    return it == expectedRm_.end() ? std::set<std::string>{} : it->second;
  }
  void finalizerRemovalObserved(const std::string& key, const std::string& uid) {
    std::lock_guard lock(mu_);
    auto it = expectedRm_.find(key);
    if (it != expectedRm_.end()) it->second.erase(uid);
  }

  core::Status sync(const std::string& key);
  long long manage(const json::value& job, const std::string& key,
                   const std::vector<ObjectPtr>& pods, const std::vector<ObjectPtr>& active,
                   long long succeeded, const std::set<long long>& doneIndexes,
                   const std::set<long long>& failedIx, core::Status& err);
  // Pods for the lowest pending indexes (neither succeeded, failed nor running); with a backoff
  // limit per index, an index whose last pod failed waits out its backoff first.
  std::vector<json::object> indexedPods(const json::value& job, const std::string& key,
                                        const std::vector<ObjectPtr>& pods,
                                        const std::vector<ObjectPtr>& active,
                                        const std::set<long long>& taken, long long n);
  long long createPods(const json::value& job, const std::string& key, long long n,
                       core::Status& err);
  // Deletes pods; `dropFinalizer` first removes the tracking finalizer (pods removed by scaling
  // down or suspending are not failures and need not be counted, as upstream deleteJobPods).
  long long deletePods(const json::value& job, const std::string& key,
                       const std::vector<ObjectPtr>& pods, core::Status& err,
                       bool dropFinalizer = false);
  std::chrono::steady_clock::duration backoffRemaining(const std::string& key,
                                                       const NewFinished& finished);
  core::Status removeFinalizers(const std::string& key, const std::vector<ObjectPtr>& pods,
                                std::set<std::string>& withFinalizer);

  client::RestClient& client_;
  client::SharedInformer& jobInformer_;
  client::SharedInformer& podInformer_;
  client::EventRecorder recorder_;
  ControllerExpectations expectations_;
  PodControl podControl_{client_, recorder_, expectations_};
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> expectedRm_;  // finalizer removals in flight
  struct Backoff {
    long long failuresAfterSuccess = 0;
    std::chrono::steady_clock::time_point lastFailure;
  };
  std::map<std::string, Backoff> backoff_;
  QueueWorkers workers_;
  int workerCount_;
};

core::Status JobController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  ObjectPtr jobPtr = jobInformer_.lister().get(ns, name);
  if (!jobPtr) {
    expectations_.forget(key);
    std::lock_guard lock(mu_);
    expectedRm_.erase(key);
    backoff_.erase(key);
    return core::Status();
  }
  const json::value& job = *jobPtr;
  std::string managedBy = strAt(specOf(job), "managedBy");
  if (!managedBy.empty() && managedBy != "kubernetes.io/job-controller") return core::Status();
  if (isFinished(job)) {
    std::lock_guard lock(mu_);
    backoff_.erase(key);
    return core::Status();
  }
  auto systemNow = std::chrono::system_clock::now();
  std::string now = formatTime(systemNow);
  json::value updated = job;
  json::value& statusSlot = updated.as_object()["status"];
  if (!statusSlot.is_object()) statusSlot = json::object();
  json::object& status = statusSlot.as_object();
  if (!status.contains("uncountedTerminatedPods"))
    status["uncountedTerminatedPods"] = json::object();

  // Expectations first: a pod created after this check waits for the next sync.
  bool satisfied = expectations_.satisfied(key);
  std::vector<ObjectPtr> pods;
  if (auto selector = specSelector(job); selector.ok() && !selector->empty()) {
    // Adopted pods get the tracking finalizer, released ones lose it (upstream's claim with
    // the job finalizer).
    ControllerRefManager refs(client_, kJobs, job, "batch/v1", "Job", *selector);
    refs.setFinalizers({kTrackingFinalizer});
    core::Status claimError;
    pods = refs.claim(kPods, ownedAndOrphans(podInformer_, ns, uidOf(job)), claimError);
    if (!claimError.ok()) return claimError;
  } else {
    pods = controlledBy(podInformer_, uidOf(job));
  }
  std::vector<ObjectPtr> active;
  long long ready = 0, terminating = 0;
  for (const ObjectPtr& p : pods) {
    if (isPodActive(*p)) {
      active.push_back(p);
      if (isPodReady(*p)) ++ready;
    } else if (isBeingDeleted(*p) && !isPodTerminal(*p)) {
      ++terminating;
    }
  }
  std::set<std::string> expectedRm = expectedRemovals(key);
  NewFinished fresh = newFinishedPods(job, pods, expectedRm);
  long long succeeded =
      intAt(status, "succeeded").value_or(0) + static_cast<long long>(fresh.succeeded.size());
  long long failed =
      intAt(status, "failed").value_or(0) + static_cast<long long>(fresh.failed.size());
  {
    const json::object& u = objAt(status, "uncountedTerminatedPods");
    for (const char* w : {"succeeded", "failed"}) {
      const json::value* l = u.if_contains(w);
      long long n = l && l->is_array() ? static_cast<long long>(l->get_array().size()) : 0;
      (std::string_view(w) == "succeeded" ? succeeded : failed) += n;
    }
  }
  std::set<long long> doneIndexes, failedIx;
  if (isIndexed(job)) {
    doneIndexes = succeededIndexes(job, pods);
    succeeded = static_cast<long long>(doneIndexes.size());
  }
  bool perIndex = hasBackoffLimitPerIndex(job);
  if (perIndex) failedIx = failedIndexes(job, pods);
  bool suspended = boolAt(specOf(job), "suspend").value_or(false);
  bool statusChanged = false;
  if (!status.contains("startTime") && !suspended) {
    status["startTime"] = now;
    statusChanged = true;
  }
  auto remaining = backoffRemaining(key, fresh);
  // With a backoff limit per index each index waits out its own backoff (in manage).
  if (perIndex) remaining = {};

  std::optional<Condition> finished;
  if (hasTrueCondition(job, "SuccessCriteriaMet")) {
    finished = successCondition();
  } else {
    // `updated`: the deadline counts from the start time just set. A FailJob rule of the
    // podFailurePolicy comes before the backoff limit and deadline (upstream syncJob).
    finished = failureCondition(updated, pods, failed, systemNow);
    if (!hasTrueCondition(job, "FailureTarget")) {
      if (auto message = failJobMessage(job, pods)) {
        finished = Condition{"FailureTarget", "PodFailurePolicy", *message};
      } else if (perIndex) {
        // Before backoffLimit (MaxInt32 here anyway) and the deadline, as upstream.
        if (auto c = perIndexFailureCondition(job, failedIx.size(), doneIndexes.size())) {
          finished = c;
        }
      }
    }
    auto deadline = intAt(specOf(job), "activeDeadlineSeconds");
    auto start = parseTime(strAt(status, "startTime"));
    if (!finished && deadline && start && !suspended) {
      workers_.queue().addAfter(key,
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    *start + std::chrono::seconds(*deadline) - systemNow +
                                    std::chrono::milliseconds(50)));
    }
  }
  core::Status manageErr;
  long long activeCount = static_cast<long long>(active.size());
  if (finished) {
    // Finishing: delete what still runs (finalizers stay until the pods are counted).
    long long readyDeleted = 0;
    for (const ObjectPtr& p : active) readyDeleted += isPodReady(*p) ? 1 : 0;
    long long deleted = deletePods(job, key, active, manageErr);
    if (deleted != activeCount || !satisfied) finished.reset();
    activeCount -= deleted;
    terminating += deleted;
    if (deleted == static_cast<long long>(active.size())) ready -= readyDeleted;
  } else {
    bool manageCalled = false;
    if (satisfied && !isBeingDeleted(job)) {
      if (remaining > std::chrono::steady_clock::duration::zero() &&
          wantActive(job, activeCount, succeeded) > activeCount && !suspended) {
        workers_.queue().addAfter(key, remaining);
      } else {
        activeCount = manage(job, key, pods, active, succeeded, doneIndexes, failedIx, manageErr);
      }
      manageCalled = true;
    }
    auto completions = intAt(specOf(job), "completions");
    bool complete = completions ? succeeded >= *completions && activeCount == 0
                                : succeeded > 0 && activeCount == 0;
    if (complete) {
      finished = successCondition();
    } else if (manageCalled) {
      if (suspended) {
        if (ensureCondition(status, {"Suspended", "JobSuspended", "Job suspended"}, "True", now)) {
          statusChanged = true;
          recorder_.record(job, "Normal", "Suspended", "Job suspended");
        }
      } else if (ensureCondition(status, {"Suspended", "JobResumed", "Job resumed"}, "False",
                                 now)) {
        statusChanged = true;
        recorder_.record(job, "Normal", "Resumed", "Job resumed");
        status["startTime"] = now;  // activeDeadlineSeconds counts continuous activity
      }
    }
  }
  auto setCount = [&](const char* field, long long v) {
    const json::value* old = status.if_contains(field);
    if (!old || intAt(status, field).value_or(-1) != v) statusChanged = true;
    status[field] = v;
  };
  if (activeCount > 0) {
    setCount("active", activeCount);
  } else if (status.erase("active") > 0) {
    statusChanged = true;  // zero is omitted, as upstream's omitempty
  }
  setCount("ready", std::max(0LL, ready));
  setCount("terminating", terminating);

  // Record finished pods as uncounted, drop their finalizers, then count them.
  std::set<std::string> withFinalizer;
  for (const ObjectPtr& p : pods) {
    if (hasFinalizer(*p) && !expectedRm.count(uidOf(*p))) withFinalizer.insert(uidOf(*p));
  }
  if (countUncounted(status, withFinalizer)) statusChanged = true;
  bool failing = finished && (finished->type == "FailureTarget" || finished->type == "Failed");
  long long before = uncountedCount(status);
  std::set<std::string> held;
  if (perIndex) {
    std::set<long long> settled = doneIndexes;
    settled.insert(failedIx.begin(), failedIx.end());
    // `pods` as listed before manage created replacements: those show up on the next sync.
    held = podsWithDelayedDeletion(job, pods, settled);
  }
  std::vector<ObjectPtr> toRemove = recordUncounted(
      status, job, pods, expectedRm, finished.has_value(), failing, isIndexed(job), held);
  if (isIndexed(job)) {
    // Successes are counted by index; both fields are omitted while empty.
    std::string text = formatIndexes(doneIndexes);
    if (strAt(status, "completedIndexes") != text) statusChanged = true;
    if (text.empty()) {
      status.erase("completedIndexes");
    } else {
      status["completedIndexes"] = text;
    }
    long long n = static_cast<long long>(doneIndexes.size());
    if (intAt(status, "succeeded").value_or(0) != n) statusChanged = true;
    if (n > 0) {
      status["succeeded"] = n;
    } else {
      status.erase("succeeded");
    }
  }
  if (perIndex) {
    // Always present with a backoff limit per index, "" while no index failed (upstream).
    std::string text = formatIndexes(failedIx);
    const json::value* old = status.if_contains("failedIndexes");
    if (!old || !old->is_string() || old->get_string() != text) statusChanged = true;
    status["failedIndexes"] = text;
  }
  if (uncountedCount(status) != before) statusChanged = true;
  if (finished && (finished->type == "FailureTarget" || finished->type == "SuccessCriteriaMet")) {
    if (!hasTrueCondition(job, finished->type)) {
      ensureCondition(status, *finished, "True", now);
      statusChanged = true;
    }
    finished->type = finished->type == "FailureTarget" ? "Failed" : "Complete";
  }
  auto writeStatus = [&]() -> core::Status {
    auto r = client_.updateStatus(kJobs, ns, updated);
    if (!r.ok()) return r.status();
    updated.as_object()["metadata"].as_object()["resourceVersion"] =
        metaOf(*r).at("resourceVersion");
    statusChanged = false;
    return core::Status();
  };
  if (statusChanged) {
    if (core::Status st = writeStatus(); !st.ok()) return st;
  }
  core::Status rmErr = removeFinalizers(key, toRemove, withFinalizer);
  if (countUncounted(status, withFinalizer)) statusChanged = true;
  bool done = false;
  if (finished && uncountedCount(status) == 0 && terminating == 0) {
    ensureCondition(status, *finished, "True", now);
    if (finished->type == "Complete") status["completionTime"] = now;
    statusChanged = done = true;
  }
  if (statusChanged) {
    if (core::Status st = writeStatus(); !st.ok()) return st;
  }
  if (done) {
    if (finished->type == "Complete") {
      recorder_.record(job, "Normal", "Completed", "Job completed");
    } else {
      recorder_.record(job, "Warning", finished->reason, finished->message);
    }
  }
  if (!rmErr.ok()) return rmErr;
  return manageErr;
}

long long JobController::manage(const json::value& job, const std::string& key,
                                const std::vector<ObjectPtr>& pods,
                                const std::vector<ObjectPtr>& active, long long succeeded,
                                const std::set<long long>& doneIndexes,
                                const std::set<long long>& failedIx, core::Status& err) {
  long long activeCount = static_cast<long long>(active.size());
  if (boolAt(specOf(job), "suspend").value_or(false)) {
    return activeCount - deletePods(job, key, active, err, /*dropFinalizer=*/true);
  }
  if (!failedIx.empty()) {
    // A failed index is not retried: whatever still runs for it goes (upstream manageJob).
    std::vector<ObjectPtr> inFailed;
    for (const ObjectPtr& p : active) {
      auto ix = completionIndex(*p);
      if (ix && failedIx.count(*ix)) inFailed.push_back(p);
    }
    if (!inFailed.empty()) return activeCount - deletePods(job, key, inFailed, err);
  }
  // Failed indexes are done as far as new pods go.
  long long want =
      wantActive(job, activeCount, succeeded + static_cast<long long>(failedIx.size()));
  if (activeCount > want) {
    auto victims = podsForRemoval(active, std::min(activeCount - want, kMaxPodCreateDeletePerSync));
    return activeCount - deletePods(job, key, victims, err, /*dropFinalizer=*/true);
  }
  if (activeCount < want) {
    long long diff = std::min(want - activeCount, kMaxPodCreateDeletePerSync);
    if (isIndexed(job)) {
      std::set<long long> taken = doneIndexes;
      taken.insert(failedIx.begin(), failedIx.end());
      std::vector<json::object> fresh = indexedPods(job, key, pods, active, taken, diff);
      return activeCount + podControl_.create(job, key, fresh, err);
    }
    return activeCount + createPods(job, key, diff, err);
  }
  return activeCount;
}

std::vector<json::object> JobController::indexedPods(const json::value& job, const std::string& key,
                                                     const std::vector<ObjectPtr>& pods,
                                                     const std::vector<ObjectPtr>& active,
                                                     const std::set<long long>& taken,
                                                     long long n) {
  json::object tmpl = podTemplateFor(job);
  json::object ref = newControllerRef(job, "batch/v1", "Job");
  long long completions = intAt(specOf(job), "completions").value_or(0);
  std::vector<json::object> out;
  if (!hasBackoffLimitPerIndex(job)) {
    for (long long ix : pendingIndexes(completions, taken, active, n)) {
      out.push_back(indexedPod(tmpl, job, ix, ref));
    }
    return out;
  }
  auto now = std::chrono::system_clock::now();
  std::optional<std::chrono::system_clock::duration> soonest;
  for (long long ix : pendingIndexes(completions, taken, active, completions)) {
    if (static_cast<long long>(out.size()) >= n) break;
    ObjectPtr last = lastFailedPod(job, pods, ix);
    if (last) {
      auto wait = remainingBackoff(*last, now);
      if (wait > std::chrono::system_clock::duration::zero()) {
        if (!soonest || wait < *soonest) soonest = wait;
        continue;
      }
    }
    out.push_back(indexedPod(tmpl, job, ix, ref));
    annotateFailureCounts(out.back(), job, last.get());
  }
  if (soonest) {
    workers_.queue().addAfter(
        key, std::chrono::duration_cast<std::chrono::steady_clock::duration>(*soonest) +
                 std::chrono::milliseconds(50));
  }
  return out;
}

long long JobController::createPods(const json::value& job, const std::string& key, long long n,
                                    core::Status& err) {
  json::object tmpl = podTemplateFor(job);
  json::object ref = newControllerRef(job, "batch/v1", "Job");
  std::string ns = strAt(metaOf(job), "namespace");
  std::string prefix = strAt(metaOf(job), "name") + "-";
  std::vector<json::object> pods(static_cast<size_t>(n), podFromTemplate(tmpl, ns, prefix, ref));
  return podControl_.create(job, key, pods, err);
}

long long JobController::deletePods(const json::value& job, const std::string& key,
                                    const std::vector<ObjectPtr>& pods, core::Status& err,
                                    bool dropFinalizer) {
  auto dropIt = [this](const json::value& pod) -> core::Status {
    if (!hasFinalizer(pod)) return core::Status();
    auto r = client_.patch(kPods, strAt(metaOf(pod), "namespace"), strAt(metaOf(pod), "name"),
                           client::PatchType::kStrategicMerge, removeFinalizerPatch());
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  };
  return podControl_.remove(
      job, key, pods, err,
      dropFinalizer ? std::function<core::Status(const json::value&)>(dropIt) : nullptr);
}

// Upstream's pod failure backoff: after N failures since the last success, new pods wait
// 10 s * 2^(N-1) (at most 6 min) from the last failure.
std::chrono::steady_clock::duration JobController::backoffRemaining(const std::string& key,
                                                                    const NewFinished& fresh) {
  std::lock_guard lock(mu_);
  Backoff& b = backoff_[key];
  auto now = std::chrono::steady_clock::now();
  if (!fresh.succeeded.empty() && fresh.failed.empty()) b.failuresAfterSuccess = 0;
  if (!fresh.failed.empty()) {
    b.failuresAfterSuccess += static_cast<long long>(fresh.failed.size());
    b.lastFailure = now;
  }
  if (b.failuresAfterSuccess == 0) return {};
  auto delay = kPodFailureBackoff * (1LL << std::min<long long>(b.failuresAfterSuccess - 1, 10));
  if (delay > kMaxPodFailureBackoff) delay = kMaxPodFailureBackoff;
  return b.lastFailure + delay - now;
}

core::Status JobController::removeFinalizers(const std::string& key,
                                             const std::vector<ObjectPtr>& pods,
                                             std::set<std::string>& withFinalizer) {
  if (pods.empty()) return core::Status();
  {
    std::lock_guard lock(mu_);
    for (const ObjectPtr& p : pods) expectedRm_[key].insert(uidOf(*p));
  }
  core::Status first;
  std::string body = removeFinalizerPatch();
  for (const ObjectPtr& p : pods) {
    auto r = client_.patch(kPods, strAt(metaOf(*p), "namespace"), strAt(metaOf(*p), "name"),
                           client::PatchType::kStrategicMerge, body);
    if (!r.ok()) {
      finalizerRemovalObserved(key, uidOf(*p));
      if (!r.status().isNotFound()) {
        if (first.ok()) first = r.status();
        continue;
      }
    }
    withFinalizer.erase(uidOf(*p));
  }
  return first;
}

}  // namespace

std::unique_ptr<Controller> newJobController(ControllerContext& ctx) {
  return std::make_unique<JobController>(ctx);
}

}  // namespace berth::controllers
