#include "core/kinds/deletion.h"

#include <boost/json.hpp>

#include <algorithm>

namespace berth::core::kinds {

namespace json = boost::json;

std::string defaultPropagationPolicy(const ResourceType& rt) {
  if (rt.group.empty() && rt.plural == "replicationcontrollers") return "Orphan";
  return "Background";
}

namespace {

bool hasFinalizer(const json::array& fs, std::string_view f) {
  return std::any_of(fs.begin(), fs.end(),
                     [&](const json::value& x) { return x.is_string() && x.as_string() == f; });
}

}  // namespace

bool applyPropagationPolicy(const ResourceType& rt, json::object& meta, const std::string& policy) {
  json::array current;
  if (auto* f = meta.if_contains("finalizers"); f && f->is_array()) current = f->as_array();
  std::string effective = policy;
  if (effective.empty()) {
    if (hasFinalizer(current, kFinalizerOrphan))
      effective = "Orphan";
    else if (hasFinalizer(current, kFinalizerForeground))
      effective = "Foreground";
    else
      effective = defaultPropagationPolicy(rt);
  }
  json::array next;
  for (const auto& x : current) {
    bool gc = x.is_string() &&
              (x.as_string() == kFinalizerOrphan || x.as_string() == kFinalizerForeground);
    if (!gc) next.push_back(x);
  }
  // Keep the GC finalizer where it already was, so a repeated delete is a no-op.
  auto keep = [&](const char* f) {
    if (hasFinalizer(current, f)) {
      next.clear();
      for (const auto& x : current) {
        bool other = x.is_string() && x.as_string() != f &&
                     (x.as_string() == kFinalizerOrphan || x.as_string() == kFinalizerForeground);
        if (!other) next.push_back(x);
      }
    } else {
      next.push_back(json::string(f));
    }
  };
  if (effective == "Orphan") keep(kFinalizerOrphan);
  if (effective == "Foreground") keep(kFinalizerForeground);
  if (next == current) return false;
  if (next.empty())
    meta.erase("finalizers");
  else
    meta["finalizers"] = std::move(next);
  return true;
}

}  // namespace berth::core::kinds
