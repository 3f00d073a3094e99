#include "controllers/job/pod_failure_policy.h"

#include "controllers/framework/workload_util.h"
#include "controllers/job/job_logic.h"

namespace berth::controllers::job {

namespace json = boost::json;

namespace {

// The first terminated container (containers, then init containers) with a non-zero exit code
// the requirement matches.
const json::object* matchingContainer(const json::value& pod, const json::object& req) {
  std::string op = strAt(req, "operator");
  const json::value* name = req.if_contains("containerName");
  std::vector<long long> values;
  if (const json::value* v = req.if_contains("values"); v && v->is_array()) {
    for (const auto& x : v->get_array())
      if (x.is_int64()) values.push_back(x.get_int64());
  }
  for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
    const json::value* statuses = statusOf(pod).if_contains(list);
    if (!statuses || !statuses->is_array()) continue;
    for (const json::value& s : statuses->get_array()) {
      if (!s.is_object()) continue;
      const json::object& terminated = objAt(s, "state", "terminated");
      auto code = intAt(terminated, "exitCode");
      if (!code || *code == 0) continue;  // still running, or succeeded
      if (name && name->is_string() && name->get_string() != strAt(s.get_object(), "name"))
        continue;
      bool in = std::find(values.begin(), values.end(), *code) != values.end();
      if ((op == "In" && in) || (op == "NotIn" && !in)) return &s.get_object();
    }
  }
  return nullptr;
}

const json::object* matchingCondition(const json::value& pod, const json::array& patterns) {
  const json::value* conds = statusOf(pod).if_contains("conditions");
  if (!conds || !conds->is_array()) return nullptr;
  for (const json::value& c : conds->get_array()) {
    if (!c.is_object()) continue;
    for (const json::value& p : patterns) {
      if (!p.is_object()) continue;
      if (strAt(c.get_object(), "type") == strAt(p.get_object(), "type") &&
          strAt(c.get_object(), "status") == strAt(p.get_object(), "status")) {
        return &c.get_object();
      }
    }
  }
  return nullptr;
}

}  // namespace

PolicyMatch matchPodFailurePolicy(const json::value& job, const json::value& pod) {
  PolicyMatch out;
  const json::value* rules = objAt(job, "spec", "podFailurePolicy").if_contains("rules");
  if (!rules || !rules->is_array()) return out;
  std::string ns = strAt(metaOf(pod), "namespace"), name = strAt(metaOf(pod), "name");
  size_t index = 0;
  for (const json::value& r : rules->get_array()) {
    size_t i = index++;
    if (!r.is_object()) continue;
    const json::object& rule = r.get_object();
    std::string action = strAt(rule, "action");
    std::string message;
    if (const json::value* req = rule.if_contains("onExitCodes"); req && req->is_object()) {
      const json::object* c = matchingContainer(pod, req->get_object());
      if (!c) continue;
      message = "Container " + strAt(*c, "name") + " for pod " + ns + "/" + name +
                " failed with exit code " +
                std::to_string(intAt(objAt(*c, "state", "terminated"), "exitCode").value_or(0)) +
                " matching " + action + " rule at index " + std::to_string(i);
    } else if (const json::value* pats = rule.if_contains("onPodConditions");
               pats && pats->is_array()) {
      const json::object* c = matchingCondition(pod, pats->get_array());
      if (!c) continue;
      message = "Pod " + ns + "/" + name + " has condition " + strAt(*c, "type") + " matching " +
                action + " rule at index " + std::to_string(i);
    } else {
      continue;
    }
    // Upstream returns at the first matching rule with a known action.
    if (action == "Ignore") {
      out.countFailed = false;
    } else if (action == "FailJob") {
      out.failJobMessage = std::move(message);
    } else if (action != "Count" && action != "FailIndex") {
      continue;
    }
    out.action = action;
    return out;
  }
  return out;
}

std::optional<std::string> failJobMessage(const json::value& job,
                                          const std::vector<client::ObjectPtr>& pods) {
  if (!specOf(job).contains("podFailurePolicy")) return std::nullopt;
  for (const client::ObjectPtr& p : pods) {
    if (podPhase(*p) != "Failed") continue;
    if (auto m = matchPodFailurePolicy(job, *p).failJobMessage) return m;
  }
  return std::nullopt;
}

bool countsAsFailure(const json::value& job, const json::value& pod) {
  if (!specOf(job).contains("podFailurePolicy")) return true;
  return matchPodFailurePolicy(job, pod).countFailed;
}

}  // namespace berth::controllers::job
