#pragma once
// Pure pieces of the StatefulSet controller (upstream pkg/controller/statefulset/
// stateful_set_utils.go): a pod's stable identity (<set>-<ordinal>, hostname, subdomain, the
// statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index labels), its claims
// (<template>-<set>-<ordinal>, wired into the pod's volumes), ordinals and health, and the
// template a revision holds.
//
// Thread-safety: stateless free functions over immutable JSON.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::statefulset {

inline constexpr const char* kPodNameLabel = "statefulset.kubernetes.io/pod-name";
inline constexpr const char* kPodIndexLabel = "apps.kubernetes.io/pod-index";
inline constexpr const char* kRevisionLabel = "controller-revision-hash";
inline constexpr const char* kRevisionHashLabel = "controller.kubernetes.io/hash";

// The ordinal of a pod named "<set>-<n>" that belongs to `setName`; nullopt otherwise.
std::optional<long long> ordinalOf(const std::string& setName, const std::string& podName);
long long startOrdinal(const boost::json::value& set);
long long replicasOf(const boost::json::value& set);

// The pod for `ordinal` from `tmpl` (the set's or a revision's template), labelled with the
// revision name, with its claims wired in.
boost::json::object newPod(const boost::json::value& set, const boost::json::object& tmpl,
                           long long ordinal, const std::string& revision);

// The claims the pod of `ordinal` needs, from spec.volumeClaimTemplates; labels are the
// template's plus the set's selector matchLabels (upstream getPersistentVolumeClaims).
std::vector<boost::json::object> claimsFor(const boost::json::value& set, long long ordinal);

// The template stored in a revision's data (spec.template without the "$patch" directive).
boost::json::object revisionTemplate(const boost::json::value& revision);

bool isRunningAndReady(const boost::json::value& pod);
bool isRunningAndAvailable(const boost::json::value& pod, long long minReadySeconds,
                           SystemTime now);
// Running, ready and not terminating (upstream isHealthy).
bool isHealthy(const boost::json::value& pod);

}  // namespace berth::controllers::statefulset
