#pragma once
// The arithmetic of a PodDisruptionBudget's status, as upstream's disruption controller does it
// (pkg/controller/disruption/disruption.go): expected pods and desired healthy from
// minAvailable/maxUnavailable (ints, or percentages of the controllers' scale rounded up),
// healthy = Ready pods not being deleted and not recently evicted (the disruptedPods map, whose
// entries expire after kDeletionTimeout), disruptionsAllowed = healthy - desired (0 when no pods
// are expected), and the DisruptionAllowed condition.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::controllers::disruption {

using TimePoint = std::chrono::system_clock::time_point;
// How long an evicted pod counts as disrupted before it is expected to have gone.
inline constexpr std::chrono::seconds kDeletionTimeout{120};

struct PodState {
  std::string name;
  bool ready = false;
  bool terminating = false;  // deletionTimestamp set
};
PodState podStateOf(const boost::json::value& pod);

// intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total (rounded up or down).
core::Result<int> scaledValue(const boost::json::value& v, int total, bool roundUp);

struct Expectation {
  int expectedCount = 0;
  int desiredHealthy = 0;
};
// From the PDB spec; `scale` (the summed scale of the pods' controllers) is called only when
// a percentage or maxUnavailable needs it.
core::Result<Expectation> expectation(const boost::json::object& spec, int podCount,
                                      const std::function<core::Result<int>()>& scale);

struct DisruptedPods {
  std::map<std::string, std::string> entries;  // pod name → time of eviction (RFC 3339)
  std::optional<TimePoint> recheckAt;          // when the earliest kept entry expires
};
// Keeps the entries of pods that still exist, are not being deleted, and whose eviction is
// younger than kDeletionTimeout.
DisruptedPods keptDisruptedPods(const std::vector<PodState>& pods,
                                const boost::json::object* disruptedPods, TimePoint now);
int countHealthy(const std::vector<PodState>& pods, const DisruptedPods& disrupted);

// The new status. `oldStatus` supplies the conditions (transition times kept when unchanged).
boost::json::object statusFor(const boost::json::object& oldStatus, int64_t generation,
                              int currentHealthy, const Expectation& e,
                              const DisruptedPods& disrupted, const std::string& now);
// A LabelSelector as Go's %v prints upstream's *metav1.LabelSelector (its generated String()),
// which upstream's UnmanagedPods event embeds: "&LabelSelector{MatchLabels:map[string]string{
// app: web,},MatchExpressions:[]LabelSelectorRequirement{},}". "nil" for no selector.
std::string goSelectorString(const boost::json::value* selector);

// Upstream's failSafe: no disruptions allowed, condition SyncFailed with the error.
boost::json::object failSafeStatus(const boost::json::object& oldStatus, int64_t generation,
                                   const std::string& message, const std::string& now);

// metav1 SetStatusCondition on status.conditions (lastTransitionTime moves on a status flip).
void setCondition(boost::json::object& status, const std::string& type, bool isTrue,
                  const std::string& reason, const std::string& message, int64_t generation,
                  const std::string& now);

std::optional<TimePoint> parseRfc3339(const std::string& s);

}  // namespace berth::controllers::disruption
