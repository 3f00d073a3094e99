#pragma once
// Small readers of the object fields every workload controller needs (metadata, int fields at a
// path, owner references, metav1.Time), over parsed JSON as the informers hand it out. A missing
// field or one of another type reads as the given default, never throws.
//
// Thread-safety: stateless functions.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/labels.h"

namespace berth::controllers {

using SystemTime = std::chrono::system_clock::time_point;

// The value at `path` (e.g. {"spec", "replicas"}), or null when some step is missing.
const boost::json::value* valueAt(const boost::json::value& obj,
                                  std::initializer_list<std::string_view> path);
long long intAt(const boost::json::value& obj, std::initializer_list<std::string_view> path,
                long long fallback = 0);
std::string stringAt(const boost::json::value& obj, std::initializer_list<std::string_view> path);

std::string uidOf(const boost::json::value& obj);
core::Labels labelsOfObject(const boost::json::value& obj);
// metadata.annotations[key], or nullopt.
std::optional<std::string> annotation(const boost::json::value& obj, std::string_view key);
bool isBeingDeleted(const boost::json::value& obj);  // metadata.deletionTimestamp set

// metadata.ownerReferences[] with controller: true.
struct ControllerRef {
  std::string apiVersion, kind, name, uid;
  bool operator==(const ControllerRef&) const = default;
};
std::optional<ControllerRef> controllerOf(const boost::json::value& obj);
// The controller reference upstream's metav1.NewControllerRef builds (blockOwnerDeletion and
// controller true) for `owner`, whose kind/apiVersion are given (list items may lack them).
boost::json::object newControllerRef(const boost::json::value& owner, std::string_view apiVersion,
                                     std::string_view kind);

// metav1.Time: RFC 3339, whole seconds or fractional, "Z" or an offset. nullopt when unparsable.
std::optional<SystemTime> parseTime(std::string_view text);
std::string formatTime(SystemTime t);  // whole seconds, UTC ("2024-03-01T12:00:00Z")

// Sort keys recursively and serialize: the same JSON document always gives the same bytes.
std::string canonicalJson(const boost::json::value& v);

}  // namespace berth::controllers
