#pragma once
// Helpers shared by the registry's translation units (registry.cpp: reads and the write
// pipelines; registry_subresources.cpp: scale, binding, eviction).
// Not part of the registry's interface.
#include <boost/json.hpp>

#include <string>

#include "core/json_access.h"
#include "core/result.h"
#include "core/status.h"

namespace berth::apiserver::registry_detail {

namespace json = boost::json;
using core::Result;
using core::Status;

inline json::object& metaOf(json::object& obj) {
  auto& m = obj["metadata"];
  if (!m.is_object()) m = json::object();
  return m.as_object();
}

inline bool hasFinalizers(const json::object& obj) {
  auto* m = core::objectField(obj, "metadata");
  if (!m) return false;
  auto* f = m->if_contains("finalizers");
  return f && f->is_array() && !f->as_array().empty();
}

// A namespace's spec.finalizers (the `kubernetes` one is the namespace controller's).
inline bool hasSpecFinalizers(const json::object& obj) {
  auto* spec = core::objectField(obj, "spec");
  auto* f = spec ? spec->if_contains("finalizers") : nullptr;
  return f && f->is_array() && !f->as_array().empty();
}

inline Result<json::object> parseStored(const std::string& value) {
  boost::system::error_code ec;
  auto v = json::parse(value, ec);
  if (ec || !v.is_object()) return Status::internal("stored object is not valid JSON");
  return std::move(v.as_object());
}

// Adds `field` = value to a list of invalid-field causes.
inline core::StatusCause cause(std::string reason, std::string field, std::string message) {
  return {std::move(reason), std::move(message), std::move(field)};
}

// Writes that lose an optimistic-concurrency race and may be redone against the newest state
// (patches, unconditional updates, deletes) are retried; each retry re-reads the object, so
// this bounds only a pathological storm of writers to one object.
inline constexpr int kMaxWriteRetries = 100;

}  // namespace berth::apiserver::registry_detail
