#pragma once
// The one family of accessors for reading fields of parsed JSON objects (Boost.JSON) outside the
// per-kind code (which has its own in core/kinds/internal.h, returning views): a missing field or
// one of another type reads as empty, never throws.
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace berth::core {

inline std::string stringField(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline const boost::json::object* objectField(const boost::json::object& o,
                                              std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

}  // namespace berth::core
