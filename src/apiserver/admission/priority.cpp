// Priority (upstream plugin/pkg/admission/priority): a created pod's spec.priorityClassName
// resolves to spec.priority and spec.preemptionPolicy (the globalDefault class, or priority 0,
// when none is named); an unknown class is 403; a pod may not bring its own different priority.
// PriorityClasses themselves: at most one globalDefault. The built-in system-cluster-critical
// and system-node-critical classes are created by the server on start (builtinPriorityClasses).
#include <limits>

#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/priority.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

std::vector<json::object> builtinPriorityClasses() {
  auto make = [](const char* name, int64_t value, const char* description) {
    return json::object{{"apiVersion", "scheduling.k8s.io/v1"},
                        {"kind", "PriorityClass"},
                        {"metadata", json::object{{"name", name}}},
                        {"value", value},
                        {"description", description},
                        {"preemptionPolicy", "PreemptLowerPriority"}};
  };
  return {make("system-node-critical", 2000001000,
               "Used for system critical pods that must not be moved from their current node."),
          make("system-cluster-critical", 2000000000,
               "Used for system critical pods that must run in the cluster, but can be moved to "
               "another node if necessary.")};
}

namespace {

const core::ResourceType& priorityClasses() {
  static const auto* rt = core::findResource("scheduling.k8s.io", "v1", "priorityclasses");
  return *rt;
}

class Priority : public Plugin {
 public:
  explicit Priority(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "Priority"; }

  core::Status admit(Attributes& a) override {
    if (!a.object || !isResource(a, "", "pods")) return {};
    auto& spec = ensureObject(*a.object, "spec");
    if (a.operation == Operation::kUpdate) {
      // Set on create; an update that leaves them out keeps them (validation forbids changes).
      const auto* oldSpec = a.oldObject ? objectField(*a.oldObject, "spec") : nullptr;
      for (const char* f : {"priority", "preemptionPolicy"}) {
        if (oldSpec && !spec.contains(f) && oldSpec->contains(f)) spec[f] = oldSpec->at(f);
      }
      return {};
    }
    if (a.operation != Operation::kCreate) return {};
    std::string className = stringField(spec, "priorityClassName");
    int64_t priority = 0;
    std::string preemption = "PreemptLowerPriority";
    if (className.empty()) {
      if (auto def = globalDefault()) {
        const auto* meta = objectField(*def, "metadata");
        className = meta ? stringField(*meta, "name") : "";
        priority = intField(*def, "value").value_or(0);
        if (auto p = stringField(*def, "preemptionPolicy"); !p.empty()) preemption = p;
        spec["priorityClassName"] = className;
      }
    } else {
      auto pc = reader_.get(priorityClasses(), "", className);
      if (!pc) return forbidden(a, "no PriorityClass with name " + className + " was found");
      priority = intField(*pc, "value").value_or(0);
      if (auto p = stringField(*pc, "preemptionPolicy"); !p.empty()) preemption = p;
    }
    if (auto given = intField(spec, "priority"); given && *given != priority) {
      return forbidden(a, "the integer value of priority (" + std::to_string(*given) +
                              ") must not be provided in pod spec; priority admission controller "
                              "computed " +
                              std::to_string(priority) + " from the given PriorityClass name");
    }
    spec["priority"] = priority;
    if (auto given = stringField(spec, "preemptionPolicy"); !given.empty() && given != preemption) {
      return forbidden(a, "the string value of PreemptionPolicy (" + given +
                              ") must not be provided in pod spec; priority admission controller "
                              "computed " +
                              preemption + " from the given PriorityClass name");
    }
    spec["preemptionPolicy"] = preemption;
    return {};
  }

  core::Status validate(const Attributes& a) override {
    if (!a.object || !isResource(a, "scheduling.k8s.io", "priorityclasses")) return {};
    if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return {};
    if (!boolField(*a.object, "globalDefault").value_or(false)) return {};
    for (const auto& pc : reader_.list(priorityClasses(), "")) {
      const auto* meta = objectField(pc, "metadata");
      std::string other = meta ? stringField(*meta, "name") : "";
      if (other != a.name && boolField(pc, "globalDefault").value_or(false)) {
        return forbidden(a, "PriorityClass " + other +
                                " is already marked as default. Only one default can exist");
      }
    }
    return {};
  }

 private:
  // The globalDefault class; with several (created concurrently), the lowest value, as upstream.
  std::optional<json::object> globalDefault() const {
    std::optional<json::object> best;
    int64_t bestValue = std::numeric_limits<int64_t>::max();
    for (auto& pc : reader_.list(priorityClasses(), "")) {
      if (!boolField(pc, "globalDefault").value_or(false)) continue;
      int64_t v = intField(pc, "value").value_or(0);
      if (!best || v < bestValue) {
        bestValue = v;
        best = std::move(pc);
      }
    }
    return best;
  }

  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newPriority(const ObjectReader& reader) {
  return std::make_unique<Priority>(reader);
}

}  // namespace berth::apiserver::admission
