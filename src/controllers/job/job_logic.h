#pragma once
// The Job controller's decisions as pure functions (upstream pkg/controller/job, 1.32 with
// JobPodReplacementPolicy and JobManagedBy on, so terminal conditions come in two steps:
// FailureTarget before Failed, SuccessCriteriaMet before Complete, the second only once no pod
// is left running or uncounted).
//
// Pod accounting follows upstream's finalizer-based tracking: every pod is created with the
// batch.kubernetes.io/job-tracking finalizer; a finished pod's uid is first recorded in
// status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
// status.succeeded/failed. So a pod is counted exactly once even if the controller restarts at
// any point, and a pod cannot vanish before it was counted.
//
// Thread-safety: stateless free functions over immutable JSON.
#include <boost/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers::job {

inline constexpr const char* kTrackingFinalizer = "batch.kubernetes.io/job-tracking";
inline constexpr const char* kCompletionIndexAnnotation =
    "batch.kubernetes.io/job-completion-index";

struct Condition {
  std::string type;  // FailureTarget, Failed, SuccessCriteriaMet, Complete
  std::string reason;
  std::string message;
};

// SuccessCriteriaMet as 1.32 sets it when completions are reached (JobSuccessPolicy on); the
// Complete condition that follows carries the same reason and message.
inline Condition successCondition() {
  return {"SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"};
}

bool hasFinalizer(const boost::json::value& pod);
// Upstream isPodFailed: with podReplacementPolicy TerminatingOrFailed a pod deleted before it
// succeeded counts as failed; with Failed only a Failed phase does.
bool isPodFailed(const boost::json::value& pod, const boost::json::value& job);
bool hasTrueCondition(const boost::json::value& job, std::string_view type);
// Complete or Failed is True (upstream IsJobFinished).
bool isFinished(const boost::json::value& job);

// Sets (or appends) a condition as upstream ensureJobConditionStatus: lastTransitionTime moves
// only when the status changes; a False condition is never appended. Returns whether changed.
bool ensureCondition(boost::json::object& status, const Condition& c, std::string_view cStatus,
                     const std::string& now);

// Terminal pods still carrying the finalizer that are not recorded yet (upstream
// getNewFinishedPods), split by phase. `expectedRm` are uids whose finalizer removal is in flight.
struct NewFinished {
  std::vector<client::ObjectPtr> succeeded, failed;
};
NewFinished newFinishedPods(const boost::json::value& job,
                            const std::vector<client::ObjectPtr>& pods,
                            const std::set<std::string>& expectedRm);

// The condition the job is heading to, if any: a FailureTarget already set becomes Failed;
// failures beyond backoffLimit (or OnFailure restarts reaching it) → FailureTarget
// BackoffLimitExceeded; past activeDeadlineSeconds → FailureTarget DeadlineExceeded.
std::optional<Condition> failureCondition(const boost::json::value& job,
                                          const std::vector<client::ObjectPtr>& pods,
                                          long long failed, SystemTime now);

// How many pods should run now (upstream manageJob's wantActive).
long long wantActive(const boost::json::value& job, long long active, long long succeeded);

// Which active pods to delete to get down to `want`: not-yet-scheduled, then not ready, then
// youngest first (upstream activePodsForRemoval's order, simplified).
std::vector<client::ObjectPtr> podsForRemoval(std::vector<client::ObjectPtr> active, long long n);

// The pod template for new pods: the job's template plus the tracking finalizer.
boost::json::object podTemplateFor(const boost::json::value& job);

// One step of upstream trackJobStatusAndRemoveFinalizers on `status`: records finished pods
// (all remaining pods when the job is finishing with a failure) in uncountedTerminatedPods and
// returns the pods whose finalizer may now be removed. Indexed jobs count successes by index
// (status.completedIndexes), so their succeeded pods are not recorded by uid. Failed pods in
// `held` keep their finalizer and stay unrecorded while the job is not finishing (upstream's
// delayed deletion of each index's last failed pod, see index_backoff.h).
std::vector<client::ObjectPtr> recordUncounted(boost::json::object& status,
                                               const boost::json::value& job,
                                               const std::vector<client::ObjectPtr>& pods,
                                               const std::set<std::string>& expectedRm,
                                               bool finishing, bool failing, bool indexed = false,
                                               const std::set<std::string>& held = {});

// Moves uids that no longer have a finalizer (not in `withFinalizer`) from
// uncountedTerminatedPods into the succeeded/failed counters. Returns whether changed.
bool countUncounted(boost::json::object& status, const std::set<std::string>& withFinalizer);

long long uncountedCount(const boost::json::object& status);

}  // namespace berth::controllers::job
