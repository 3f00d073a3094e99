#include "client/transform.h"

#include <boost/json.hpp>

#include <initializer_list>
#include <string_view>

namespace berth::client {

namespace json = boost::json;

namespace {

json::object* objectAt(json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

// Each object element of o[key] (an array), with `f`.
template <class F>
void forEachObjectIn(json::object& o, std::string_view key, const F& f) {
  auto* v = o.if_contains(key);
  auto* a = v ? v->if_array() : nullptr;
  if (!a) return;
  for (auto& e : *a) {
    if (auto* eo = e.if_object()) f(*eo);
  }
}

void eraseAll(json::object& o, std::initializer_list<std::string_view> keys) {
  for (auto k : keys) o.erase(k);
}

}  // namespace

void stripManagedFields(json::value& obj) {
  auto* o = obj.if_object();
  if (!o) return;
  if (auto* meta = objectAt(*o, "metadata")) meta->erase("managedFields");
}

void dropUnreadPodFields(json::value& pod) {
  auto* o = pod.if_object();
  if (!o) return;
  if (auto* spec = objectAt(*o, "spec")) {
    forEachObjectIn(*spec, "volumes", [](json::object& vol) {
      for (auto source : {"configMap", "secret", "downwardAPI", "projected"}) {
        if (auto* s = vol.if_contains(source)) *s = json::object();
      }
    });
    for (auto list : {"initContainers", "containers", "ephemeralContainers"}) {
      forEachObjectIn(*spec, list, [](json::object& c) {
        eraseAll(c, {"volumeMounts", "terminationMessagePath", "terminationMessagePolicy",
                     "imagePullPolicy"});
      });
    }
    eraseAll(*spec, {"dnsPolicy", "enableServiceLinks", "serviceAccount", "securityContext",
                     "terminationGracePeriodSeconds"});
  }
  if (auto* status = objectAt(*o, "status")) {
    forEachObjectIn(*status, "conditions", [](json::object& c) { c.erase("lastProbeTime"); });
    for (auto list : {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
      forEachObjectIn(*status, list, [](json::object& s) {
        eraseAll(s, {"image", "imageID", "containerID", "lastState", "started"});
      });
    }
  }
}

}  // namespace berth::client
