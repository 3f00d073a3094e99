#pragma once
// Backoff limit per index for Indexed Jobs (spec.backoffLimitPerIndex, GA in 1.33), as upstream's
// pkg/controller/job/indexed_job_utils.go and backoff_utils.go: each pod carries how often its
// index failed before it (annotation batch.kubernetes.io/job-index-failure-count, and
// ...-ignored-failure-count for failures a podFailurePolicy Ignore rule matched); a failed pod
// whose count reached backoffLimitPerIndex, or that a FailIndex rule matches, fails its index
// for good (status.failedIndexes, intervals as completedIndexes). A replacement pod for an index
// waits 10 s * 2^(failures-1) (at most 6 min) from its last failed pod's finish time.
//
// The last failed pod of an index keeps its finalizer (and is not counted in status.failed yet)
// until its replacement exists, so its failure count survives until it is carried over.
//
// Thread-safety: stateless free functions over immutable JSON.
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "controllers/framework/workload_util.h"
#include "controllers/job/job_logic.h"

namespace berth::controllers::job {

inline constexpr const char* kIndexFailureCountAnnotation =
    "batch.kubernetes.io/job-index-failure-count";
inline constexpr const char* kIndexIgnoredFailureCountAnnotation =
    "batch.kubernetes.io/job-index-ignored-failure-count";

// completionMode Indexed with spec.backoffLimitPerIndex set.
bool hasBackoffLimitPerIndex(const boost::json::value& job);

// The pod's failure-count annotations (0 when absent or malformed).
long long indexFailureCount(const boost::json::value& pod);
long long indexIgnoredFailureCount(const boost::json::value& pod);

// Upstream isIndexFailed: the pod failed and a FailIndex rule matches it, or its failure counts
// and its index had already failed backoffLimitPerIndex times before it.
bool isIndexFailed(const boost::json::value& job, const boost::json::value& pod);

// status.failedIndexes plus the indexes failed pods fail now (valid and below completions).
std::set<long long> failedIndexes(const boost::json::value& job,
                                  const std::vector<client::ObjectPtr>& pods);

// The failure FailedIndexes state leads to (upstream syncJob): more failed indexes than
// maxFailedIndexes → MaxFailedIndexesExceeded; every index succeeded or failed with at least
// one failed → FailedIndexes.
std::optional<Condition> perIndexFailureCondition(const boost::json::value& job, size_t failed,
                                                  size_t succeeded);

// The newest failed pod of `index`: the one with the highest failure counts, then the latest
// finish time. Null if the index has none.
client::ObjectPtr lastFailedPod(const boost::json::value& job,
                                const std::vector<client::ObjectPtr>& pods, long long index);

// Upstream getPodsWithDelayedDeletionPerIndex: the uids of the last failed pod of each index
// that is neither settled (succeeded or failed) nor has an active pod.
std::set<std::string> podsWithDelayedDeletion(const boost::json::value& job,
                                              const std::vector<client::ObjectPtr>& pods,
                                              const std::set<long long>& settled);

// Upstream getFinishedTime: the latest container finishedAt, else the time Ready turned False,
// else the deletion timestamp, else the creation time.
SystemTime finishedTime(const boost::json::value& pod);

// How long the replacement for `lastFailed` must still wait (≤ 0: may be created now).
std::chrono::system_clock::duration remainingBackoff(const boost::json::value& lastFailed,
                                                     SystemTime now);

// Adds the failure-count annotations a replacement of `lastFailed` (null: a first pod) carries.
void annotateFailureCounts(boost::json::object& pod, const boost::json::value& job,
                           const boost::json::value* lastFailed);

}  // namespace berth::controllers::job
