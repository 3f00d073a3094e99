#pragma once
// The one family of accessors for reading fields of parsed JSON objects (Boost.JSON) outside the
// per-kind code (which has its own in core/kinds/internal.h, returning views): a missing field or
// one of another type reads as empty, never throws.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>

#include <string>
#include <string_view>

namespace berth::core {

inline std::string stringField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline const boost::json::object* objectField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

inline const boost::json::array* arrayField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

// An integer field; a missing one, or one of another type (a float, a string), is `fallback`.
inline int64_t int64Field(const boost::json::object& o, std::string_view key,
                          int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return fallback;
}

}  // namespace berth::core
