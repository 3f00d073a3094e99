#include "controllers/pvcprotection/claim_usage.h"

#include <boost/json.hpp>

#include "controllers/framework/object_util.h"

namespace berth::controllers::pvcprotection {

namespace json = boost::json;

namespace {

// upstream notRunning: every status is waiting or terminated (none, or an unknown state, is not).
bool noneRunning(const json::value& pod, std::string_view field) {
  const json::value* list = valueAt(pod, {"status", field});
  if (!list || !list->is_array()) return true;
  for (const auto& s : list->get_array()) {
    const json::value* state = valueAt(s, {"state"});
    bool stopped =
        state && state->is_object() &&
        (state->get_object().contains("terminated") || state->get_object().contains("waiting"));
    if (!stopped) return false;
  }
  return true;
}

const json::array& volumesOf(const json::value& pod) {
  static const json::array none;
  const json::value* v = valueAt(pod, {"spec", "volumes"});
  return v && v->is_array() ? v->get_array() : none;
}

}  // namespace

bool podIsTerminated(const json::value& pod) {
  std::string phase = stringAt(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed") return true;
  return isBeingDeleted(pod) && noneRunning(pod, "initContainerStatuses") &&
         noneRunning(pod, "containerStatuses") && noneRunning(pod, "ephemeralContainerStatuses");
}

bool podIsShutDown(const json::value& pod) {
  const json::value* grace = valueAt(pod, {"metadata", "deletionGracePeriodSeconds"});
  return isBeingDeleted(pod) && grace && grace->is_number() && grace->to_number<double>() == 0;
}

std::vector<std::string> claimNamesOf(const json::value& pod) {
  std::vector<std::string> names;
  std::string podName = stringAt(pod, {"metadata", "name"});
  for (const auto& v : volumesOf(pod)) {
    if (std::string claim = stringAt(v, {"persistentVolumeClaim", "claimName"}); !claim.empty())
      names.push_back(std::move(claim));
    else if (const json::value* e = valueAt(v, {"ephemeral"}); e && e->is_object())
      names.push_back(podName + "-" + stringAt(v, {"name"}));
  }
  return names;
}

bool podUsesClaim(const json::value& pod, const json::value& claim) {
  if (stringAt(pod, {"spec", "nodeName"}).empty() || podIsTerminated(pod)) return false;
  std::string claimName = stringAt(claim, {"metadata", "name"});
  std::string podName = stringAt(pod, {"metadata", "name"});
  for (const auto& v : volumesOf(pod)) {
    if (stringAt(v, {"persistentVolumeClaim", "claimName"}) == claimName) return true;
    const json::value* e = valueAt(v, {"ephemeral"});
    if (!e || !e->is_object() || podIsShutDown(pod)) continue;
    // ephemeral.VolumeIsForPod: the claim of that name must be the one this pod controls.
    auto owner = controllerOf(claim);
    if (podName + "-" + stringAt(v, {"name"}) == claimName && owner && owner->uid == uidOf(pod))
      return true;
  }
  return false;
}

bool podEventMayReleaseClaims(const json::value& pod, bool deleted) {
  return deleted || podIsTerminated(pod) || stringAt(pod, {"spec", "nodeName"}).empty();
}

}  // namespace berth::controllers::pvcprotection
