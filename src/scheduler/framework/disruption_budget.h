#pragma once
// What preemption reads from a policy/v1 PodDisruptionBudget: the pods it covers (namespace and
// selector) and how many of them may still be disrupted (status.disruptionsAllowed, minus the
// pods in status.disruptedPods that the API server already counted).
//
// Thread-safety: immutable values once parsed.
#include <boost/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "core/labels.h"
#include "scheduler/framework/types.h"

namespace berth::scheduler {

struct DisruptionBudget {
  std::string ns, name;
  core::LabelSelector selector;
  // Upstream: a nil or empty selector, or one that does not parse, matches no pod.
  bool matchesNothing = true;
  int32_t disruptionsAllowed = 0;
  std::set<std::string> disruptedPods;  // pod names already being disrupted (counted)

  bool covers(const PodInfo& pod) const {
    return !matchesNothing && pod.ns == ns && !pod.labels.empty() && selector.matches(pod.labels);
  }
};

// Never fails: fields that are absent or malformed take the values that make the budget inert
// (no pods covered) or strict (0 disruptions allowed), as upstream's zero values do.
DisruptionBudget parseDisruptionBudget(const boost::json::value& pdb);

// Upstream's filterPodsWithPDBViolation: walks `pods` in order and splits them into those whose
// eviction would take some covering budget's disruptionsAllowed below 0 (counting the pods
// before them) and the others. Both keep the input order.
struct PdbSplit {
  std::vector<PodInfoPtr> violating, nonViolating;
};
PdbSplit splitByDisruptionBudgets(const std::vector<PodInfoPtr>& pods,
                                  const std::vector<DisruptionBudget>& budgets);

}  // namespace berth::scheduler
