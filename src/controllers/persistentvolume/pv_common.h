#pragma once
// What the binder and the local-path provisioner share: resources, object references for
// events, and small accessors. Internal to this folder.
#include <boost/json.hpp>

#include <string>

#include "client/rest_client.h"
#include "core/volume_binding.h"

namespace berth::controllers::pv {

inline const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};
inline const client::Resource kVolumes{"", "v1", "persistentvolumes", false};
inline const client::Resource kClasses{"storage.k8s.io", "v1", "storageclasses", false};

inline constexpr const char* kLocalPathProvisioner = "rancher.io/local-path";

// The object with kind and apiVersion set (informer objects may lack them), for events.
inline boost::json::value withKind(const boost::json::object& obj, const char* kind,
                                   const char* apiVersion = "v1") {
  boost::json::object o = obj;
  o["kind"] = kind;
  o["apiVersion"] = apiVersion;
  return o;
}

inline const boost::json::object& sub(const boost::json::object& o, std::string_view key) {
  static const boost::json::object empty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : empty;
}
inline std::string text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}
inline boost::json::object& annotationsOf(boost::json::object& obj) {
  auto& meta = obj["metadata"];
  if (!meta.is_object()) meta = boost::json::object{};
  auto& ann = meta.as_object()["annotations"];
  if (!ann.is_object()) ann = boost::json::object{};
  return ann.as_object();
}

}  // namespace berth::controllers::pv
