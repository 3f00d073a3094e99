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
        client::onEveryChange([this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); }));
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

  // One sync's view of a Job (upstream's syncJobCtx): read once, then filled in and changed by
  // the phases of sync() in order.
  struct JobSync {
    JobSync(const std::string& key, const std::string& ns, const json::value& job);
    JobSync(const JobSync&) = delete;  // `status` points into `updated`
    std::string key, ns;
    const json::value& job;  // the informer's copy
    json::value updated;     // the copy whose status is written
    json::object* status;    // updated's status
    std::chrono::system_clock::time_point systemNow;
    std::string now;
    bool satisfied = false, suspended = false, perIndex = false, statusChanged = false;
    std::vector<ObjectPtr> pods, active;
    long long ready = 0, terminating = 0, succeeded = 0, failed = 0, activeCount = 0;
    std::set<std::string> expectedRm;  // pods whose finalizer removal is in flight
    NewFinished fresh;                 // pods finished since they were last counted
    std::set<long long> doneIndexes, failedIx;
    std::chrono::steady_clock::duration backoff{};
    std::optional<Condition> finished;
    core::Status manageErr;
  };

  core::Status sync(const std::string& key);
  core::Status claimPods(JobSync& s);
  void countPods(JobSync& s);
  void checkFinished(JobSync& s);
  void manageOrFinish(JobSync& s);
  void setActiveCounts(JobSync& s);
  std::vector<ObjectPtr> trackFinishedPods(JobSync& s, std::set<std::string>& withFinalizer);
  core::Status writeStatus(JobSync& s, const std::vector<ObjectPtr>& toRemove,
                           std::set<std::string>& withFinalizer);
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
  std::string managedBy = strAt(specOf(*jobPtr), "managedBy");
  if (!managedBy.empty() && managedBy != "kubernetes.io/job-controller") return core::Status();
  if (isFinished(*jobPtr)) {
    std::lock_guard lock(mu_);
    backoff_.erase(key);
    return core::Status();
  }
  JobSync s(key, ns, *jobPtr);
  // Expectations first: a pod created after this check waits for the next sync.
  s.satisfied = expectations_.satisfied(key);
  if (core::Status st = claimPods(s); !st.ok()) return st;
  countPods(s);
  checkFinished(s);
  manageOrFinish(s);
  setActiveCounts(s);
  std::set<std::string> withFinalizer;
  std::vector<ObjectPtr> toRemove = trackFinishedPods(s, withFinalizer);
  return writeStatus(s, toRemove, withFinalizer);
}

JobController::JobSync::JobSync(const std::string& k, const std::string& n, const json::value& j)
    : key(k), ns(n), job(j), updated(j), systemNow(std::chrono::system_clock::now()) {
  now = formatTime(systemNow);
  json::value& statusSlot = updated.as_object()["status"];
  if (!statusSlot.is_object()) statusSlot = json::object();
  status = &statusSlot.as_object();
  if (!status->contains("uncountedTerminatedPods"))
    (*status)["uncountedTerminatedPods"] = json::object();
  suspended = boolAt(specOf(job), "suspend").value_or(false);
  perIndex = hasBackoffLimitPerIndex(job);
}

core::Status JobController::claimPods(JobSync& s) {
  if (auto selector = specSelector(s.job); selector.ok() && !selector->empty()) {
    // Adopted pods get the tracking finalizer, released ones lose it (upstream's claim with
    // the job finalizer).
    ControllerRefManager refs(client_, kJobs, s.job, "batch/v1", "Job", *selector);
    refs.setFinalizers({kTrackingFinalizer});
    core::Status claimError;
    s.pods = refs.claim(kPods, ownedAndOrphans(podInformer_, s.ns, uidOf(s.job)), claimError);
    return claimError;
  }
  s.pods = controlledBy(podInformer_, uidOf(s.job));
  return core::Status();
}

// Active, ready and terminating pods; succeeded and failed totals (counted, uncounted and newly
// finished); the succeeded and failed indexes.
void JobController::countPods(JobSync& s) {
  for (const ObjectPtr& p : s.pods) {
    if (isPodActive(*p)) {
      s.active.push_back(p);
      if (isPodReady(*p)) ++s.ready;
    } else if (isBeingDeleted(*p) && !isPodTerminal(*p)) {
      ++s.terminating;
    }
  }
  s.activeCount = static_cast<long long>(s.active.size());
  s.expectedRm = expectedRemovals(s.key);
  s.fresh = newFinishedPods(s.job, s.pods, s.expectedRm);
  const json::object& status = *s.status;
  s.succeeded =
      intAt(status, "succeeded").value_or(0) + static_cast<long long>(s.fresh.succeeded.size());
  s.failed = intAt(status, "failed").value_or(0) + static_cast<long long>(s.fresh.failed.size());
  const json::object& u = objAt(status, "uncountedTerminatedPods");
  for (const char* w : {"succeeded", "failed"}) {
    const json::value* l = u.if_contains(w);
    long long n = l && l->is_array() ? static_cast<long long>(l->get_array().size()) : 0;
    (std::string_view(w) == "succeeded" ? s.succeeded : s.failed) += n;
  }
  if (isIndexed(s.job)) {
    s.doneIndexes = succeededIndexes(s.job, s.pods);
    s.succeeded = static_cast<long long>(s.doneIndexes.size());
  }
  if (s.perIndex) s.failedIx = failedIndexes(s.job, s.pods);
}

// The start time, the pod failure backoff, and whether the Job has met a success or failure
// criterion (requeued for its active deadline otherwise).
void JobController::checkFinished(JobSync& s) {
  json::object& status = *s.status;
  if (!status.contains("startTime") && !s.suspended) {
    status["startTime"] = s.now;
    s.statusChanged = true;
  }
  s.backoff = backoffRemaining(s.key, s.fresh);
  // With a backoff limit per index each index waits out its own backoff (in manage).
  if (s.perIndex) s.backoff = {};
  if (hasTrueCondition(s.job, "SuccessCriteriaMet")) {
    s.finished = successCondition();
    return;
  }
  // `updated`: the deadline counts from the start time just set. A FailJob rule of the
  // podFailurePolicy comes before the backoff limit and deadline (upstream syncJob).
  s.finished = failureCondition(s.updated, s.pods, s.failed, s.systemNow);
  if (!hasTrueCondition(s.job, "FailureTarget")) {
    if (auto message = failJobMessage(s.job, s.pods)) {
      s.finished = Condition{"FailureTarget", "PodFailurePolicy", *message};
    } else if (s.perIndex) {
      // Before backoffLimit (MaxInt32 here anyway) and the deadline, as upstream.
      if (auto c = perIndexFailureCondition(s.job, s.failedIx.size(), s.doneIndexes.size())) {
        s.finished = c;
      }
    }
  }
  auto deadline = intAt(specOf(s.job), "activeDeadlineSeconds");
  auto start = parseTime(strAt(status, "startTime"));
  if (!s.finished && deadline && start && !s.suspended) {
    workers_.queue().addAfter(s.key,
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  *start + std::chrono::seconds(*deadline) - s.systemNow +
                                  std::chrono::milliseconds(50)));
  }
}

// A finishing Job deletes what still runs (finalizers stay until the pods are counted); any
// other gets its pods created or deleted, and the Suspended condition.
void JobController::manageOrFinish(JobSync& s) {
  if (s.finished) {
    long long readyDeleted = 0;
    for (const ObjectPtr& p : s.active) readyDeleted += isPodReady(*p) ? 1 : 0;
    long long deleted = deletePods(s.job, s.key, s.active, s.manageErr);
    if (deleted != s.activeCount || !s.satisfied) s.finished.reset();
    s.activeCount -= deleted;
    s.terminating += deleted;
    if (deleted == static_cast<long long>(s.active.size())) s.ready -= readyDeleted;
    return;
  }
  bool manageCalled = false;
  if (s.satisfied && !isBeingDeleted(s.job)) {
    if (s.backoff > std::chrono::steady_clock::duration::zero() &&
        wantActive(s.job, s.activeCount, s.succeeded) > s.activeCount && !s.suspended) {
      workers_.queue().addAfter(s.key, s.backoff);
    } else {
      s.activeCount = manage(s.job, s.key, s.pods, s.active, s.succeeded, s.doneIndexes, s.failedIx,
                             s.manageErr);
    }
    manageCalled = true;
  }
  auto completions = intAt(specOf(s.job), "completions");
  bool complete = completions ? s.succeeded >= *completions && s.activeCount == 0
                              : s.succeeded > 0 && s.activeCount == 0;
  if (complete) {
    s.finished = successCondition();
  } else if (manageCalled) {
    json::object& status = *s.status;
    if (s.suspended) {
      if (ensureCondition(status, {"Suspended", "JobSuspended", "Job suspended"}, "True", s.now)) {
        s.statusChanged = true;
        recorder_.record(s.job, "Normal", "Suspended", "Job suspended");
      }
    } else if (ensureCondition(status, {"Suspended", "JobResumed", "Job resumed"}, "False",
                               s.now)) {
      s.statusChanged = true;
      recorder_.record(s.job, "Normal", "Resumed", "Job resumed");
      status["startTime"] = s.now;  // activeDeadlineSeconds counts continuous activity
    }
  }
}

void JobController::setActiveCounts(JobSync& s) {
  json::object& status = *s.status;
  auto setCount = [&](const char* field, long long v) {
    const json::value* old = status.if_contains(field);
    if (!old || intAt(status, field).value_or(-1) != v) s.statusChanged = true;
    status[field] = v;
  };
  if (s.activeCount > 0) {
    setCount("active", s.activeCount);
  } else if (status.erase("active") > 0) {
    s.statusChanged = true;  // zero is omitted, as upstream's omitempty
  }
  setCount("ready", std::max(0LL, s.ready));
  setCount("terminating", s.terminating);
}

// Records finished pods as uncounted (returned: the pods whose finalizer goes next), the
// completed and failed indexes, and a FailureTarget or SuccessCriteriaMet condition (turning
// `finished` into the Failed or Complete condition it leads to).
std::vector<ObjectPtr> JobController::trackFinishedPods(JobSync& s,
                                                        std::set<std::string>& withFinalizer) {
  json::object& status = *s.status;
  for (const ObjectPtr& p : s.pods) {
    if (hasFinalizer(*p) && !s.expectedRm.count(uidOf(*p))) withFinalizer.insert(uidOf(*p));
  }
  if (countUncounted(status, withFinalizer)) s.statusChanged = true;
  bool failing =
      s.finished && (s.finished->type == "FailureTarget" || s.finished->type == "Failed");
  long long before = uncountedCount(status);
  std::set<std::string> held;
  if (s.perIndex) {
    std::set<long long> settled = s.doneIndexes;
    settled.insert(s.failedIx.begin(), s.failedIx.end());
    // `pods` as listed before manage created replacements: those show up on the next sync.
    held = podsWithDelayedDeletion(s.job, s.pods, settled);
  }
  std::vector<ObjectPtr> toRemove = recordUncounted(
      status, s.job, s.pods, s.expectedRm, s.finished.has_value(), failing, isIndexed(s.job), held);
  if (isIndexed(s.job)) {
    // Successes are counted by index; both fields are omitted while empty.
    std::string text = formatIndexes(s.doneIndexes);
    if (strAt(status, "completedIndexes") != text) s.statusChanged = true;
    if (text.empty()) {
      status.erase("completedIndexes");
    } else {
      status["completedIndexes"] = text;
    }
    long long n = static_cast<long long>(s.doneIndexes.size());
    if (intAt(status, "succeeded").value_or(0) != n) s.statusChanged = true;
    if (n > 0) {
      status["succeeded"] = n;
    } else {
      status.erase("succeeded");
    }
  }
  if (s.perIndex) {
    // Always present with a backoff limit per index, "" while no index failed (upstream).
    std::string text = formatIndexes(s.failedIx);
    const json::value* old = status.if_contains("failedIndexes");
    if (!old || !old->is_string() || old->get_string() != text) s.statusChanged = true;
    status["failedIndexes"] = text;
  }
  if (uncountedCount(status) != before) s.statusChanged = true;
  auto& f = s.finished;
  if (f && (f->type == "FailureTarget" || f->type == "SuccessCriteriaMet")) {
    if (!hasTrueCondition(s.job, f->type)) {
      ensureCondition(status, *f, "True", s.now);
      s.statusChanged = true;
    }
    f->type = f->type == "FailureTarget" ? "Failed" : "Complete";
  }
  return toRemove;
}

// Writes the status with the pods recorded as uncounted, drops their finalizers, then writes
// the counts and, once nothing is uncounted or terminating, the final condition.
core::Status JobController::writeStatus(JobSync& s, const std::vector<ObjectPtr>& toRemove,
                                        std::set<std::string>& withFinalizer) {
  json::object& status = *s.status;
  auto write = [&]() -> core::Status {
    auto r = client_.updateStatus(kJobs, s.ns, s.updated);
    if (!r.ok()) return r.status();
    s.updated.as_object()["metadata"].as_object()["resourceVersion"] =
        metaOf(*r).at("resourceVersion");
    s.statusChanged = false;
    return core::Status();
  };
  if (s.statusChanged) {
    if (core::Status st = write(); !st.ok()) return st;
  }
  core::Status rmErr = removeFinalizers(s.key, toRemove, withFinalizer);
  if (countUncounted(status, withFinalizer)) s.statusChanged = true;
  bool done = false;
  if (s.finished && uncountedCount(status) == 0 && s.terminating == 0) {
    ensureCondition(status, *s.finished, "True", s.now);
    if (s.finished->type == "Complete") status["completionTime"] = s.now;
    s.statusChanged = done = true;
  }
  if (s.statusChanged) {
    if (core::Status st = write(); !st.ok()) return st;
  }
  if (done) {
    if (s.finished->type == "Complete") {
      recorder_.record(s.job, "Normal", "Completed", "Job completed");
    } else {
      recorder_.record(s.job, "Warning", s.finished->reason, s.finished->message);
    }
  }
  if (!rmErr.ok()) return rmErr;
  return s.manageErr;
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
