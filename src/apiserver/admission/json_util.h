#pragma once
// Small readers of parsed JSON and upstream's message helpers, shared by the admission plugins.
// A missing field or one of another type reads as empty, never throws.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/admission/admission.h"
#include "core/json_access.h"
#include "core/status.h"

namespace berth::apiserver::admission {

using core::arrayField;
using core::objectField;
using core::stringField;

inline std::optional<bool> boolField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v && v->is_bool()) return v->as_bool();
  return std::nullopt;
}
inline std::optional<int64_t> intField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}
// The object member `key`, created (or replaced when not an object) if needed.
boost::json::object& ensureObject(boost::json::object& o, std::string_view key);
boost::json::array& ensureArray(boost::json::object& o, std::string_view key);

// Upstream's joinQuote: `"a", "b"` (Go %q quoting).
std::string joinQuote(const std::vector<std::string>& items);
std::string goQuote(std::string_view s);
inline std::string pluralize(std::string_view one, std::string_view many, size_t n) {
  return std::string(n == 1 ? one : many);
}

// admission.NewForbidden: `pods "x" is forbidden: <why>` (403), details naming the object.
core::Status forbidden(const Attributes& a, std::string_view why);

// Whether the request is the resource (storage group and plural), not one of its subresources
// unless `subresource` names it.
bool isResource(const Attributes& a, std::string_view group, std::string_view plural,
                std::string_view subresource = "");

}  // namespace berth::apiserver::admission
