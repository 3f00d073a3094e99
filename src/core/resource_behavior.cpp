#include "core/resource_behavior.h"

#include <boost/json.hpp>

namespace berth::core {
namespace {
// ".spec.replicas" → {"spec","replicas"}.
std::vector<std::string_view> splitJsonPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '.') {
      path.remove_prefix(1);
      continue;
    }
    auto dot = path.find('.');
    out.push_back(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
  }
  return out;
}
}  // namespace

const boost::json::value* valueAtPath(const boost::json::object& obj, std::string_view path) {
  const boost::json::object* cur = &obj;
  const boost::json::value* v = nullptr;
  for (auto part : splitJsonPath(path)) {
    if (cur == nullptr) return nullptr;
    v = cur->if_contains(part);
    if (v == nullptr) return nullptr;
    cur = v->is_object() ? &v->get_object() : nullptr;
  }
  return v;
}

void setValueAtPath(boost::json::object& obj, std::string_view path, boost::json::value v) {
  auto parts = splitJsonPath(path);
  if (parts.empty()) return;
  boost::json::object* cur = &obj;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    boost::json::value& next = (*cur)[parts[i]];
    if (!next.is_object()) next = boost::json::object();
    cur = &next.get_object();
  }
  (*cur)[parts.back()] = std::move(v);
}

}  // namespace berth::core
