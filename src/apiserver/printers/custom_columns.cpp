#include "apiserver/printers/custom_columns.h"

#include <boost/json.hpp>

#include <cmath>

#include "apiserver/printers/format.h"

namespace berth::apiserver::printers::internal {
namespace {
namespace json = boost::json;

// upstream cellForJSONValue: a typed cell, or null when the value does not fit the type.
json::value typedCell(std::string_view type, const json::value& v, TimePoint now) {
  if (type == "integer") {
    if (v.is_int64() || v.is_uint64()) return v;
    if (v.is_double()) return static_cast<int64_t>(v.get_double());
  } else if (type == "number") {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v;
  } else if (type == "boolean") {
    if (v.is_bool()) return v;
  } else if (type == "date") {
    if (v.is_string()) {
      auto t = parseTime(v.get_string());
      return json::string(t ? since(t, now) : "<invalid>");
    }
  } else if (v.is_string()) {
    return v;
  }
  return nullptr;
}

}  // namespace

json::array customRowCells(const std::vector<core::PrinterColumn>& columns, const json::object& obj,
                           TimePoint now) {
  json::array cells;
  cells.emplace_back(metaString(obj, "name"));
  for (const auto& c : columns) {
    const json::value* v = core::valueAtPath(obj, c.jsonPath);
    if (v == nullptr || v->is_null()) {
      cells.emplace_back(nullptr);
    } else if (c.type == "string") {
      // JSONPath prints strings bare and other values as JSON.
      cells.emplace_back(v->is_string() ? json::string(v->get_string())
                                        : json::string(json::serialize(*v)));
    } else {
      cells.push_back(typedCell(c.type, *v, now));
    }
  }
  return cells;
}

}  // namespace berth::apiserver::printers::internal
