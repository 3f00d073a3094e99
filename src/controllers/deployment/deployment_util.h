#pragma once
// The arithmetic and bookkeeping of Deployments, as upstream's
// pkg/controller/deployment/util/deployment_util.go, over JSON objects: surge/unavailable
// fenceposts, new-ReplicaSet sizing, proportional scaling, revisions and their annotations, the
// pod-template hash, conditions and status. Pure functions; the controller does the I/O.
//
// ReplicaSets are passed as shared immutable objects (client::ObjectPtr); a null newRS means the
// Deployment's new ReplicaSet does not exist yet.
//
// Thread-safety: stateless functions.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/template_hash.h"
#include "core/result.h"

namespace berth::controllers::deployment {

using RSList = std::vector<client::ObjectPtr>;

inline constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr std::string_view kRevisionHistoryAnnotation =
    "deployment.kubernetes.io/revision-history";
inline constexpr std::string_view kDesiredReplicasAnnotation =
    "deployment.kubernetes.io/desired-replicas";
inline constexpr std::string_view kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
inline constexpr std::string_view kPodTemplateHashLabel = "pod-template-hash";
// upstream's limit on the revision-history annotation's length.
inline constexpr size_t kMaxRevisionHistoryChars = 2000;

// Condition reasons (upstream's constants).
inline constexpr std::string_view kReplicaSetUpdatedReason = "ReplicaSetUpdated";
inline constexpr std::string_view kFailedRSCreateReason = "ReplicaSetCreateError";
inline constexpr std::string_view kNewReplicaSetReason = "NewReplicaSetCreated";
inline constexpr std::string_view kFoundNewRSReason = "FoundNewReplicaSet";
inline constexpr std::string_view kNewRSAvailableReason = "NewReplicaSetAvailable";
inline constexpr std::string_view kTimedOutReason = "ProgressDeadlineExceeded";
inline constexpr std::string_view kPausedDeployReason = "DeploymentPaused";
inline constexpr std::string_view kResumedDeployReason = "DeploymentResumed";
inline constexpr std::string_view kMinimumReplicasAvailable = "MinimumReplicasAvailable";
inline constexpr std::string_view kMinimumReplicasUnavailable = "MinimumReplicasUnavailable";

// spec.replicas (defaulted to 1 by the server; 1 when absent).
long long specReplicas(const boost::json::value& obj);
long long statusInt(const boost::json::value& obj, std::string_view field);
bool isPaused(const boost::json::value& d);
// An annotation holding an integer; nullopt when absent or not an integer.
std::optional<long long> intAnnotation(const boost::json::value& obj, std::string_view key);

// ---- fenceposts ----

// An int-or-percent against `total`: ints as they are, "N%" as N*total/100 rounded up or down
// (upstream GetScaledValueFromIntOrPercent); null counts as 0. Errors on other strings.
core::Result<long long> scaledValue(const boost::json::value* v, long long total, bool roundUp);
// (maxSurge, maxUnavailable) for `desired` replicas: surge rounds up, unavailable down, and if
// both come out 0 unavailable becomes 1 (upstream ResolveFenceposts).
core::Result<std::pair<long long, long long>> resolveFenceposts(const boost::json::value* maxSurge,
                                                                const boost::json::value* maxUnav,
                                                                long long desired);
bool isRollingUpdate(const boost::json::value& d);
long long maxSurge(const boost::json::value& d);
// Capped at spec.replicas; 0 for Recreate or 0 replicas.
long long maxUnavailable(const boost::json::value& d);

// ---- sizing ----

long long sumSpecReplicas(const RSList& rss);
long long sumStatus(const RSList& rss, std::string_view field);
// ReplicaSets with spec.replicas > 0.
RSList filterActive(const RSList& rss);
// The size the new ReplicaSet should grow to in this step (upstream NewRSNewReplicas).
core::Result<long long> newRSNewReplicas(const boost::json::value& d, const RSList& allRSs,
                                         const boost::json::value& newRS);
// How much `rs` should change when the Deployment adds `toAdd` replicas (negative: removes) of
// which `added` are already handed out (upstream GetProportion / getReplicaSetFraction).
long long getProportion(const boost::json::value& rs, const boost::json::value& d, long long toAdd,
                        long long added);
bool isSaturated(const boost::json::value& d, const client::ObjectPtr& rs);
// The one active ReplicaSet, or the newest when none is active; null when several are active.
client::ObjectPtr findActiveOrLatest(const client::ObjectPtr& newRS, const RSList& oldRSs);

// Sorting (upstream controller.ReplicaSetsBy*): creation time then name; size descending with
// ties newer-first or older-first; revision then creation.
void sortByCreation(RSList& rss);
void sortBySizeNewer(RSList& rss);
void sortBySizeOlder(RSList& rss);
void sortByRevision(RSList& rss);

// ---- revisions and annotations ----

// The revision annotation; 0 when absent, nullopt when unparsable.
std::optional<long long> revisionOf(const boost::json::value& obj);
long long maxRevision(const RSList& rss);
// Copies the Deployment's annotations (except revision/replica bookkeeping and last-applied),
// raises the revision annotation to `newRevision` when lower (keeping the old one in
// revision-history, capped at kMaxRevisionHistoryChars) and, for a ReplicaSet about to be
// created (`exists` false), sets desired-/max-replicas. Returns whether anything changed.
bool setNewReplicaSetAnnotations(const boost::json::value& d, boost::json::object& rs,
                                 long long newRevision, bool exists);
// desired-replicas / max-replicas; returns whether they changed.
bool setReplicasAnnotations(boost::json::object& rs, long long desired, long long max);
bool replicasAnnotationsNeedUpdate(const boost::json::value& rs, long long desired, long long max);

// ---- templates ----

// Equal pod templates apart from the pod-template-hash label.
bool equalIgnoreHash(const boost::json::value& t1, const boost::json::value& t2);
// The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label).
client::ObjectPtr findNewReplicaSet(const boost::json::value& d, RSList rsList);
// Every ReplicaSet but the new one.
RSList findOldReplicaSets(const boost::json::value& d, const RSList& rsList);

// ---- conditions and status ----

boost::json::object newCondition(std::string_view type, std::string_view status,
                                 std::string_view reason, std::string message, SystemTime now);
const boost::json::object* getCondition(const boost::json::object& status, std::string_view type);
// Replaces the condition of the same type unless status and reason are unchanged; keeps
// lastTransitionTime when the status is the same (upstream SetDeploymentCondition).
void setCondition(boost::json::object& status, boost::json::object condition);
void removeCondition(boost::json::object& status, std::string_view type);

bool hasProgressDeadline(const boost::json::value& d);
bool hasRevisionHistoryLimit(const boost::json::value& d);
bool deploymentComplete(const boost::json::value& d, const boost::json::object& status);
bool deploymentProgressing(const boost::json::value& d, const boost::json::object& status);
bool deploymentTimedOut(const boost::json::value& d, const boost::json::object& status,
                        SystemTime now);
// The Deployment's status from its ReplicaSets, with the Available condition (upstream
// calculateStatus); other conditions are carried over.
boost::json::object calculateStatus(const RSList& allRSs, const client::ObjectPtr& newRS,
                                    const boost::json::value& d, SystemTime now);

}  // namespace berth::controllers::deployment
