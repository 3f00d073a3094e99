// Strategic merge patch, following k8s.io/apimachinery/pkg/util/strategicpatch's server-side
// merge (MergeParallelList and IgnoreUnmatchedNulls on): maps merge recursively, lists with a
// merge key merge item-wise, primitive lists with the merge strategy merge as sets, other lists
// are replaced. Directives: `$patch` (replace|delete|merge) in maps and list items,
// `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys`.
//
// One deliberate difference: a patch value for a key the original lacks is merged into an empty
// value rather than copied verbatim, so directives inside it never leak into the object.
#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "apiserver/patch/list_types.h"
#include "apiserver/patch/patch.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;
using core::Status;
using internal::jsonEqual;
using internal::ListType;

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

Status unprocessable(std::string message) {
  return Status::generic(422, "Invalid", std::move(message));
}

// Positions of list items by identity (merge-key value for keyed lists, the value itself for
// sets), first occurrence wins; keeps list merging linear in the list sizes.
class ItemIndex {
 public:
  ItemIndex(const json::array& list, const ListType& lt) : lt_(lt) {
    for (size_t i = 0; i < list.size(); ++i) add(list[i], static_cast<long>(i));
  }
  void add(const json::value& item, long position) {
    if (auto id = identity(item)) positions_.try_emplace(std::move(*id), position);
  }
  long find(const json::value& item) const {
    auto id = identity(item);
    if (!id) return -1;
    auto it = positions_.find(*id);
    return it == positions_.end() ? -1 : it->second;
  }

 private:
  std::optional<std::string> identity(const json::value& item) const {
    const json::value* v = &item;
    if (lt_.kind == ListType::kMap) {
      if (!item.is_object()) return std::nullopt;
      auto it = item.get_object().find(lt_.key);
      if (it == item.get_object().end()) return std::nullopt;
      v = &it->value();
    }
    // Numbers compare by value, as jsonEqual does (80 == 80.0).
    if (v->is_double()) {
      double d = v->get_double();
      if (d == static_cast<double>(static_cast<int64_t>(d))) {
        return std::to_string(static_cast<int64_t>(d));
      }
    }
    return json::serialize(*v);
  }

  const ListType& lt_;
  std::unordered_map<std::string, long> positions_;
};

class StrategicMerger {
 public:
  explicit StrategicMerger(const core::ResourceType& rt) : rt_(rt) {}

  Status mergeMap(json::object& original, const json::object& patchIn,
                  std::vector<std::string>& path) {
    if (auto d = patchIn.find(kDirective); d != patchIn.end()) {
      const json::value& directive = d->value();
      if (directive == "delete") {
        original = json::object();
        return Status();
      }
      if (directive == "replace" || directive == "merge") {
        json::object rest = patchIn;
        rest.erase(kDirective);
        if (directive == "replace") original = json::object();
        return mergeMap(original, rest, path);
      }
      return Status::badRequest("unknown patch type: " + json::serialize(directive) +
                                " in map: " + json::serialize(patchIn));
    }
    json::object patch = patchIn;
    if (auto s = applyRetainKeys(original, patch); !s.ok()) return s;
    if (auto s = applySetElementOrders(original, patch, path); !s.ok()) return s;

    for (const auto& [keyView, patchValue] : patch) {
      std::string key(keyView);
      if (key.starts_with(kDeleteFromPrimitiveList)) {
        std::string listKey = key.substr(kDeleteFromPrimitiveList.size());
        if (!patchValue.is_array()) {
          return Status::badRequest("invalid patch: " + key + " must be a list");
        }
        auto it = original.find(listKey);
        if (it == original.end() || !it->value().is_array()) continue;
        auto& list = it->value().get_array();
        json::array kept;
        for (const auto& item : list) {
          bool drop = std::any_of(patchValue.get_array().begin(), patchValue.get_array().end(),
                                  [&](const json::value& d) { return jsonEqual(d, item); });
          if (!drop) kept.push_back(item);
        }
        list = std::move(kept);
        continue;
      }
      if (key.starts_with(kSetElementOrder)) continue;  // handled above
      if (patchValue.is_null()) {
        original.erase(key);
        continue;
      }
      path.push_back(key);
      Status s = mergeValue(original, key, patchValue, path);
      path.pop_back();
      if (!s.ok()) return s;
    }
    return Status();
  }

 private:
  // original[key] ← merge(original[key], patchValue); `path` already ends with key.
  Status mergeValue(json::object& original, const std::string& key, const json::value& patchValue,
                    std::vector<std::string>& path) {
    auto it = original.find(key);
    if (it == original.end() || it->value().kind() != patchValue.kind() ||
        !(patchValue.is_object() || patchValue.is_array())) {
      json::value fresh;
      if (auto s = mergeIntoEmpty(patchValue, fresh, path); !s.ok()) return s;
      original[key] = std::move(fresh);
      return Status();
    }
    if (patchValue.is_object())
      return mergeMap(it->value().get_object(), patchValue.get_object(), path);
    ListType lt = internal::listTypeOf(rt_, path);
    if (lt.kind == ListType::kAtomic) {
      json::value fresh;
      if (auto s = mergeIntoEmpty(patchValue, fresh, path); !s.ok()) return s;
      it->value() = std::move(fresh);
      return Status();
    }
    json::array merged;
    if (auto s = mergeList(it->value().get_array(), patchValue.get_array(), lt, path, merged);
        !s.ok()) {
      return s;
    }
    it->value() = std::move(merged);
    return Status();
  }

  // A patch value with nothing to merge into: process its directives and drop its nulls.
  Status mergeIntoEmpty(const json::value& patchValue, json::value& out,
                        std::vector<std::string>& path) {
    if (patchValue.is_object()) {
      json::object result;
      if (auto s = mergeMap(result, patchValue.get_object(), path); !s.ok()) return s;
      out = std::move(result);
      return Status();
    }
    if (patchValue.is_array()) {
      ListType lt = internal::listTypeOf(rt_, path);
      json::array result;
      if (lt.kind == ListType::kAtomic) {
        for (const auto& item : patchValue.get_array()) {
          json::value fresh;
          if (auto s = mergeIntoEmpty(item, fresh, path); !s.ok()) return s;
          result.push_back(std::move(fresh));
        }
      } else if (auto s = mergeList(json::array(), patchValue.get_array(), lt, path, result);
                 !s.ok()) {
        return s;
      }
      out = std::move(result);
      return Status();
    }
    out = patchValue;
    return Status();
  }

  Status applyRetainKeys(json::object& original, json::object& patch) {
    auto it = patch.find(kRetainKeys);
    if (it == patch.end()) return Status();
    if (!it->value().is_array()) {
      return Status::badRequest("invalid patch: $retainKeys must be a list of strings");
    }
    json::array retain = it->value().get_array();
    patch.erase(it);
    auto retained = [&](std::string_view key) {
      return std::any_of(retain.begin(), retain.end(), [&](const json::value& v) {
        return v.is_string() && v.get_string() == key;
      });
    };
    for (const auto& [key, value] : patch) {
      if (value.is_null() || key.starts_with(kDeleteFromPrimitiveList) ||
          key.starts_with(kSetElementOrder)) {
        continue;
      }
      if (!retained(key)) return unprocessable("patch content doesn't match retainKeys list");
    }
    std::vector<std::string> drop;
    for (const auto& [key, value] : original) {
      if (!retained(key)) drop.emplace_back(key);
    }
    for (const auto& key : drop) original.erase(key);
    return Status();
  }

  // $setElementOrder/<list>: merge the parallel patch list, then order the result so items named
  // in the directive follow its order and server-only items keep their relative places.
  Status applySetElementOrders(json::object& original, json::object& patch,
                               std::vector<std::string>& path) {
    std::vector<std::string> directives;
    for (const auto& [key, value] : patch) {
      if (key.starts_with(kSetElementOrder)) directives.emplace_back(key);
    }
    for (const auto& directive : directives) {
      std::string listKey = directive.substr(kSetElementOrder.size());
      json::value order = patch.at(directive);
      patch.erase(directive);
      if (!order.is_array()) {
        return Status::badRequest("invalid patch: " + directive + " must be a list");
      }
      path.push_back(listKey);
      ListType lt = internal::listTypeOf(rt_, path);
      Status s = setElementOrder(original, patch, listKey, order.get_array(), lt, path);
      path.pop_back();
      if (!s.ok()) return s;
    }
    return Status();
  }

  Status setElementOrder(json::object& original, json::object& patch, const std::string& listKey,
                         const json::array& order, const ListType& lt,
                         std::vector<std::string>& path) {
    if (lt.kind == ListType::kAtomic) return Status();  // nothing to order; patch replaces
    auto patchIt = patch.find(listKey);
    if (patchIt != patch.end() && !patchIt->value().is_array()) return Status();  // null deletes
    auto origIt = original.find(listKey);
    json::array originalList;
    if (origIt != original.end() && origIt->value().is_array()) {
      originalList = origIt->value().get_array();
    }
    if (patchIt == patch.end() && origIt == original.end()) return Status();
    json::array patchList;
    if (patchIt != patch.end()) patchList = patchIt->value().get_array();
    json::array merged;
    if (auto s = mergeList(originalList, patchList, lt, path, merged); !s.ok()) return s;
    json::array inOrder, serverOnly;
    ItemIndex orderIndex(order, lt);
    for (auto& item : merged) {
      (orderIndex.find(item) >= 0 ? inOrder : serverOnly).push_back(std::move(item));
    }
    original[listKey] =
        normalizeOrder(std::move(inOrder), std::move(serverOnly), order, originalList, lt);
    if (patchIt != patch.end()) patch.erase(listKey);
    return Status();
  }

  // upstream normalizeElementOrder + mergeSortedSlice.
  static json::array normalizeOrder(json::array patchItems, json::array serverOnly,
                                    const json::array& patchOrder, const json::array& serverOrder,
                                    const ListType& lt) {
    ItemIndex patchIndex(patchOrder, lt);
    ItemIndex serverIndex(serverOrder, lt);
    auto sortBy = [&](json::array& items, const ItemIndex& order) {
      std::vector<std::pair<long, size_t>> keys;
      for (size_t i = 0; i < items.size(); ++i) keys.emplace_back(order.find(items[i]), i);
      std::stable_sort(keys.begin(), keys.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      json::array sorted;
      for (const auto& [ignored, i] : keys) sorted.push_back(std::move(items[i]));
      items = std::move(sorted);
    };
    sortBy(patchItems, patchIndex);
    sortBy(serverOnly, serverIndex);
    json::array out;
    size_t i = 0, j = 0;
    while (i < serverOnly.size() || j < patchItems.size()) {
      if (i >= serverOnly.size()) {
        out.push_back(std::move(patchItems[j++]));
      } else if (j >= patchItems.size()) {
        out.push_back(std::move(serverOnly[i++]));
      } else {
        long li = serverIndex.find(serverOnly[i]);
        long ri = serverIndex.find(patchItems[j]);
        if (li >= 0 && ri >= 0 && li < ri) {
          out.push_back(std::move(serverOnly[i++]));
        } else {
          out.push_back(std::move(patchItems[j++]));
        }
      }
    }
    return out;
  }

  Status mergeList(const json::array& originalIn, const json::array& patch, const ListType& lt,
                   std::vector<std::string>& path, json::array& out) {
    json::array original = originalIn;
    json::array patchItems;  // the patch without directive items
    if (lt.kind == ListType::kSet) {
      json::array merged = original;
      for (const auto& item : patch) {
        if (item.is_object() && item.get_object().contains(kDirective)) {
          if (item.get_object().at(kDirective) == "replace") {
            original.clear();
            merged.clear();
          }
          continue;
        }
        patchItems.push_back(item);
      }
      ItemIndex mergedIndex(merged, lt);
      for (const auto& item : patchItems) {
        if (mergedIndex.find(item) >= 0) continue;
        mergedIndex.add(item, static_cast<long>(merged.size()));
        merged.push_back(item);
      }
      json::array inPatch, serverOnly;
      ItemIndex patchIndex(patchItems, lt);
      for (auto& item : merged) {
        (patchIndex.find(item) >= 0 ? inPatch : serverOnly).push_back(std::move(item));
      }
      out = normalizeOrder(std::move(inPatch), std::move(serverOnly), patchItems, original, lt);
      return Status();
    }

    bool replace = false;
    json::array deletes;
    for (const auto& item : patch) {
      if (!item.is_object()) {
        return Status::badRequest("invalid patch: items of list " + path.back() +
                                  " must be objects with merge key " + lt.key);
      }
      const auto& obj = item.get_object();
      auto directive = obj.find(kDirective);
      if (directive == obj.end()) {
        patchItems.push_back(item);
        continue;
      }
      if (directive->value() == "delete") {
        if (!obj.contains(lt.key)) {
          return unprocessable("map: " + json::serialize(obj) +
                               " does not contain declared merge key: " + lt.key);
        }
        deletes.push_back(item);
      } else if (directive->value() == "replace") {
        replace = true;
      } else if (directive->value() == "merge") {
        json::object rest = obj;
        rest.erase(kDirective);
        patchItems.push_back(std::move(rest));
      } else {
        return Status::badRequest("unknown patch type: " + json::serialize(directive->value()) +
                                  " in map: " + json::serialize(obj));
      }
    }
    if (!deletes.empty()) {
      ItemIndex deleteIndex(deletes, lt);
      json::array kept;
      for (auto& o : original) {
        if (deleteIndex.find(o) < 0) kept.push_back(std::move(o));
      }
      original = std::move(kept);
    }
    if (replace) {
      original.clear();
    }
    json::array merged = original;
    ItemIndex mergedIndex(merged, lt);
    for (const auto& item : patchItems) {
      const auto& obj = item.get_object();
      if (!obj.contains(lt.key)) {
        return unprocessable("map: " + json::serialize(obj) +
                             " does not contain declared merge key: " + lt.key);
      }
      long at = mergedIndex.find(item);
      if (at >= 0 && merged[static_cast<size_t>(at)].is_object()) {
        if (auto s = mergeMap(merged[static_cast<size_t>(at)].get_object(), obj, path); !s.ok()) {
          return s;
        }
      } else {
        json::object fresh;
        if (auto s = mergeMap(fresh, obj, path); !s.ok()) return s;
        mergedIndex.add(fresh, static_cast<long>(merged.size()));
        merged.push_back(std::move(fresh));
      }
    }
    json::array inPatch, serverOnly;
    ItemIndex patchIndex(patchItems, lt);
    for (auto& item : merged) {
      (patchIndex.find(item) >= 0 ? inPatch : serverOnly).push_back(std::move(item));
    }
    out = normalizeOrder(std::move(inPatch), std::move(serverOnly), patchItems, original, lt);
    return Status();
  }

  const core::ResourceType& rt_;
};

}  // namespace

core::Result<json::value> applyStrategicMergePatch(json::value document, const json::value& patch,
                                                   const core::ResourceType& rt) {
  if (!patch.is_object()) {
    return Status::badRequest("json: cannot unmarshal " +
                              std::string(patch.is_array() ? "array" : "value") +
                              " into Go value of type map[string]interface {}");
  }
  json::object result;
  if (document.is_object()) result = std::move(document.get_object());
  std::vector<std::string> path;
  StrategicMerger merger(rt);
  if (auto s = merger.mergeMap(result, patch.get_object(), path); !s.ok()) return s;
  return json::value(std::move(result));
}

}  // namespace berth::apiserver::patch
