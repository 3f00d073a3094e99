#include "scheduler/framework/disruption_budget.h"

#include "core/json_access.h"

namespace berth::scheduler {

DisruptionBudget parseDisruptionBudget(const boost::json::value& pdb) {
  DisruptionBudget b;
  if (!pdb.is_object()) return b;
  const auto& o = pdb.as_object();
  if (const auto* meta = core::objectField(o, "metadata")) {
    b.ns = core::stringField(*meta, "namespace");
    b.name = core::stringField(*meta, "name");
  }
  if (const auto* spec = core::objectField(o, "spec")) {
    if (const auto* sel = core::objectField(*spec, "selector")) {
      auto parsed = core::LabelSelector::fromJson(*sel);
      if (parsed.ok() && !parsed.value().empty()) {
        b.selector = std::move(parsed).value();
        b.matchesNothing = false;
      }
    }
  }
  if (const auto* status = core::objectField(o, "status")) {
    if (const auto* allowed = status->if_contains("disruptionsAllowed");
        allowed && allowed->is_int64())
      b.disruptionsAllowed = static_cast<int32_t>(allowed->as_int64());
    if (const auto* disrupted = core::objectField(*status, "disruptedPods"))
      for (const auto& [podName, when] : *disrupted) b.disruptedPods.emplace(podName);
  }
  return b;
}

PdbSplit splitByDisruptionBudgets(const std::vector<PodInfoPtr>& pods,
                                  const std::vector<DisruptionBudget>& budgets) {
  std::vector<int64_t> allowed;
  allowed.reserve(budgets.size());
  for (const auto& b : budgets) allowed.push_back(b.disruptionsAllowed);
  PdbSplit out;
  for (const auto& p : pods) {
    bool violates = false;
    for (size_t i = 0; i < budgets.size(); ++i) {
      if (!budgets[i].covers(*p)) continue;
      // Already admitted for disruption by the API server: its budget has counted it.
      if (budgets[i].disruptedPods.contains(p->name)) continue;
      if (--allowed[i] < 0) violates = true;
    }
    (violates ? out.violating : out.nonViolating).push_back(p);
  }
  return out;
}

}  // namespace berth::scheduler
