#include "apiserver/patch/created_fields.h"

#include <boost/json.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/patch/list_types.h"

namespace berth::apiserver::patch::internal {

namespace json = boost::json;

namespace {

// One node of the set: `member` (itself owned) and its children by encoded element. FieldsV1
// lists "." first, then the children in the byte order of their keys (FieldSet's std::map).
struct Children {
  std::vector<std::pair<std::string, json::object>> items;

  // False when two children share a key (a FieldSet would merge them).
  bool emit(json::object& out, bool member) {
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < items.size(); ++i)
      if (items[i].first == items[i - 1].first) return false;
    out.reserve(items.size() + (member ? 1 : 0));
    if (member && !items.empty()) out.emplace(".", json::object());
    for (auto& [k, v] : items) out.emplace(k, std::move(v));
    return true;
  }
};

bool node(const json::value& value, std::vector<std::string>& names, const core::ResourceType& rt,
          json::object& out);

// The children of an object's fields ("f:<name>"), skipping `skip(name)`.
template <typename Skip>
bool fieldsOf(const json::object& obj, std::vector<std::string>& names,
              const core::ResourceType& rt, Children& children, Skip skip) {
  for (const auto& [k, v] : obj) {
    if (skip(k)) continue;
    json::object child;
    names.emplace_back(k);
    bool ok = node(v, names, rt, child);
    names.pop_back();
    if (!ok) return false;
    children.items.emplace_back("f:" + std::string(k), std::move(child));
  }
  return true;
}

// As FieldSet::collect, writing the node's FieldsV1 into `out` (a leaf stays {}).
bool node(const json::value& value, std::vector<std::string>& names, const core::ResourceType& rt,
          json::object& out) {
  if (const auto* obj = value.if_object()) {
    Children children;
    if (!fieldsOf(*obj, names, rt, children, [](std::string_view) { return false; })) return false;
    return children.emit(out, false);
  }
  const auto* arr = value.if_array();
  if (!arr || arr->empty()) return true;  // a scalar, null or empty list: a leaf
  ListType lt = listTypeOf(rt, names);
  if (lt.kind == ListType::kMap) {
    bool keyed = std::all_of(arr->begin(), arr->end(), [&](const json::value& item) {
      return item.is_object() && item.get_object().contains(lt.key);
    });
    if (!keyed) lt.kind = ListType::kAtomic;
  }
  Children children;
  switch (lt.kind) {
    case ListType::kAtomic:
      return true;
    case ListType::kSet:
      for (const auto& item : *arr)
        children.items.emplace_back("v:" + json::serialize(item), json::object());
      return children.emit(out, false);
    case ListType::kMap:
      for (const auto& item : *arr) {
        const json::object& fields = item.get_object();
        json::object key;
        key[lt.key] = fields.at(lt.key);
        Children itemChildren;
        if (!fieldsOf(fields, names, rt, itemChildren, [](std::string_view) { return false; }))
          return false;
        json::object child;
        if (!itemChildren.emit(child, true)) return false;
        children.items.emplace_back("k:" + json::serialize(key), std::move(child));
      }
      return children.emit(out, false);
  }
  return true;
}

bool strippedMetadata(std::string_view k) {
  for (const char* f :
       {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"})
    if (k == f) return true;
  return false;
}

}  // namespace

std::optional<json::object> createdFieldsV1(const json::object& obj, const core::ResourceType& rt) {
  bool dropStatus = rt.hasSubresource("status");
  Children top;
  std::vector<std::string> names;
  for (const auto& [k, v] : obj) {
    if (k == "apiVersion" || k == "kind" || (dropStatus && k == "status")) continue;
    json::object child;
    if (k == "metadata") {
      // Only what a manager can own: not the identity, timestamps or bookkeeping. Metadata
      // that is not an object, or has nothing else, is not tracked at all.
      const auto* meta = v.if_object();
      if (!meta) continue;
      Children fields;
      names.emplace_back(k);
      bool ok = fieldsOf(*meta, names, rt, fields, strippedMetadata);
      names.pop_back();
      if (!ok) return std::nullopt;
      if (fields.items.empty()) continue;
      if (!fields.emit(child, false)) return std::nullopt;
    } else {
      names.emplace_back(k);
      bool ok = node(v, names, rt, child);
      names.pop_back();
      if (!ok) return std::nullopt;
    }
    top.items.emplace_back("f:" + std::string(k), std::move(child));
  }
  json::object out;
  if (!top.emit(out, false)) return std::nullopt;
  return out;
}

}  // namespace berth::apiserver::patch::internal
