#include "apiserver/patch/fieldset.h"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "apiserver/patch/list_types.h"

namespace berth::apiserver::patch::internal {
namespace {

namespace json = boost::json;

// Parses the JSON after a "k:" or "v:" prefix; nullopt when malformed.
std::optional<json::value> parseElementJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

bool itemMatchesKey(const json::value& item, const json::object& key) {
  if (!item.is_object()) return false;
  for (const auto& [k, v] : key) {
    auto it = item.get_object().find(k);
    if (it == item.get_object().end() || !jsonEqual(it->value(), v)) return false;
  }
  return true;
}

}  // namespace

void FieldSet::collect(const json::value& value, FieldSet& node, std::vector<std::string>& names,
                       const core::ResourceType& rt) {
  if (value.is_object()) {
    const auto& obj = value.get_object();
    if (obj.empty()) {
      node.member_ = true;
      return;
    }
    for (const auto& [k, v] : obj) {
      names.emplace_back(k);
      collect(v, node.children_["f:" + std::string(k)], names, rt);
      names.pop_back();
    }
    return;
  }
  if (!value.is_array() || value.get_array().empty()) {
    node.member_ = true;
    return;
  }
  const auto& arr = value.get_array();
  ListType lt = listTypeOf(rt, names);
  if (lt.kind == ListType::kMap) {
    bool keyed = std::all_of(arr.begin(), arr.end(), [&](const json::value& item) {
      return item.is_object() && item.get_object().contains(lt.key);
    });
    if (!keyed) lt.kind = ListType::kAtomic;  // owned as a whole, like a list without keys
  }
  switch (lt.kind) {
    case ListType::kAtomic:
      node.member_ = true;
      return;
    case ListType::kSet:
      for (const auto& item : arr) node.children_["v:" + json::serialize(item)].member_ = true;
      return;
    case ListType::kMap:
      for (const auto& item : arr) {
        json::object key;
        key[lt.key] = item.get_object().at(lt.key);
        FieldSet& child = node.children_["k:" + json::serialize(key)];
        child.member_ = true;
        for (const auto& [k, v] : item.get_object()) {
          names.emplace_back(k);
          collect(v, child.children_["f:" + std::string(k)], names, rt);
          names.pop_back();
        }
      }
      return;
  }
}

FieldSet FieldSet::fromObject(const json::object& obj, const core::ResourceType& rt) {
  FieldSet root;
  std::vector<std::string> names;
  for (const auto& [k, v] : obj) {
    names.emplace_back(k);
    collect(v, root.children_["f:" + std::string(k)], names, rt);
    names.pop_back();
  }
  return root;
}

FieldSet FieldSet::fromFieldsV1(const json::value& fields) {
  FieldSet node;
  if (!fields.is_object()) return node;
  for (const auto& [k, v] : fields.get_object()) {
    if (k == ".") {
      node.member_ = true;
      continue;
    }
    FieldSet child = fromFieldsV1(v);
    if (v.is_object() && v.get_object().empty()) child.member_ = true;
    if (!child.empty()) node.children_[std::string(k)] = std::move(child);
  }
  return node;
}

json::object FieldSet::toFieldsV1() const {
  json::object out;
  if (member_ && !children_.empty()) out["."] = json::object();
  for (const auto& [k, child] : children_) out[k] = child.toFieldsV1();
  return out;
}

const FieldSet* FieldSet::find(const FieldPath& path) const {
  const FieldSet* cur = this;
  for (const auto& element : path) {
    auto it = cur->children_.find(element);
    if (it == cur->children_.end()) return nullptr;
    cur = &it->second;
  }
  return cur;
}

bool FieldSet::contains(const FieldPath& path) const {
  const FieldSet* node = find(path);
  return node && node->member_;
}

bool FieldSet::isLeaf(const FieldPath& path) const {
  const FieldSet* node = find(path);
  return node && node->member_ && node->children_.empty();
}

bool FieldSet::containsAnyUnder(const FieldPath& path) const {
  const FieldSet* node = find(path);
  return node && !node->empty();
}

void FieldSet::insert(const FieldPath& path) {
  FieldSet* cur = this;
  for (const auto& element : path) cur = &cur->children_[element];
  cur->member_ = true;
}

void FieldSet::merge(const FieldSet& other) {
  member_ = member_ || other.member_;
  for (const auto& [k, child] : other.children_) children_[k].merge(child);
}

void FieldSet::erase(const FieldPath& path) {
  if (path.empty()) {
    member_ = false;
    return;
  }
  std::vector<FieldSet*> chain{this};
  for (const auto& element : path) {
    auto it = chain.back()->children_.find(element);
    if (it == chain.back()->children_.end()) return;
    chain.push_back(&it->second);
  }
  chain.back()->member_ = false;
  for (size_t i = path.size(); i > 0; --i) {
    if (!chain[i]->empty()) break;
    chain[i - 1]->children_.erase(path[i - 1]);
  }
}

void FieldSet::eraseSubtree(const FieldPath& path) {
  if (path.empty()) {
    *this = FieldSet();
    return;
  }
  std::vector<FieldSet*> chain{this};
  for (const auto& element : path) {
    auto it = chain.back()->children_.find(element);
    if (it == chain.back()->children_.end()) return;
    chain.push_back(&it->second);
  }
  *chain.back() = FieldSet();
  for (size_t i = path.size(); i > 0; --i) {
    if (!chain[i]->empty()) break;
    chain[i - 1]->children_.erase(path[i - 1]);
  }
}

void FieldSet::forEachImpl(FieldPath& prefix,
                           const std::function<void(const FieldPath&)>& fn) const {
  if (member_) fn(prefix);
  for (const auto& [k, child] : children_) {
    prefix.push_back(k);
    child.forEachImpl(prefix, fn);
    prefix.pop_back();
  }
}

void FieldSet::forEach(const std::function<void(const FieldPath&)>& fn) const {
  FieldPath prefix;
  forEachImpl(prefix, fn);
}

std::vector<FieldPath> FieldSet::paths() const {
  std::vector<FieldPath> out;
  forEach([&](const FieldPath& p) { out.push_back(p); });
  return out;
}

void FieldSet::keepOnlyChild(const std::string& element) {
  auto it = children_.find(element);
  FieldSet kept;
  if (it != children_.end()) kept.children_[element] = std::move(it->second);
  *this = std::move(kept);
}

void FieldSet::dropChild(const std::string& element) { children_.erase(element); }

FieldSet* FieldSet::child(const std::string& element) {
  auto it = children_.find(element);
  return it == children_.end() ? nullptr : &it->second;
}

const json::value* valueAt(const json::object& obj, const FieldPath& path) {
  const json::object* curObj = &obj;
  const json::value* cur = nullptr;
  for (const auto& element : path) {
    if (cur) curObj = cur->is_object() ? &cur->get_object() : nullptr;
    if (element.starts_with("f:")) {
      if (!curObj) return nullptr;
      auto it = curObj->find(std::string_view(element).substr(2));
      if (it == curObj->end()) return nullptr;
      cur = &it->value();
      continue;
    }
    if (!cur || !cur->is_array()) return nullptr;
    auto parsed = parseElementJson(std::string_view(element).substr(2));
    if (!parsed) return nullptr;
    const json::value* found = nullptr;
    for (const auto& item : cur->get_array()) {
      bool match = element.starts_with("k:")
                       ? parsed->is_object() && itemMatchesKey(item, parsed->get_object())
                       : jsonEqual(item, *parsed);
      if (match) {
        found = &item;
        break;
      }
    }
    if (!found) return nullptr;
    cur = found;
  }
  return cur;
}

void removeAt(json::object& obj, const FieldPath& path) {
  if (path.empty()) return;
  FieldPath parentPath(path.begin(), path.end() - 1);
  const std::string& last = path.back();
  json::value* parent = nullptr;
  json::object* parentObj = &obj;
  if (!parentPath.empty()) {
    parent = const_cast<json::value*>(valueAt(obj, parentPath));
    if (!parent) return;
    parentObj = parent->is_object() ? &parent->get_object() : nullptr;
  }
  if (last.starts_with("f:")) {
    if (!parentObj) return;
    std::string name = last.substr(2);
    if (!parentPath.empty() && parentPath.back().starts_with("k:")) {
      auto key = parseElementJson(std::string_view(parentPath.back()).substr(2));
      if (key && key->is_object() && key->get_object().contains(name)) return;
    }
    parentObj->erase(name);
    return;
  }
  if (!parent || !parent->is_array()) return;
  auto parsed = parseElementJson(std::string_view(last).substr(2));
  if (!parsed) return;
  auto& arr = parent->get_array();
  json::array kept;
  for (auto& item : arr) {
    bool match = last.starts_with("k:")
                     ? parsed->is_object() && itemMatchesKey(item, parsed->get_object())
                     : jsonEqual(item, *parsed);
    if (!match) kept.push_back(std::move(item));
  }
  arr = std::move(kept);
}

std::string pathString(const FieldPath& path) {
  std::string out;
  for (const auto& element : path) {
    std::string_view rest = std::string_view(element).substr(std::min<size_t>(2, element.size()));
    if (element.starts_with("f:")) {
      out += "." + std::string(rest);
    } else if (element.starts_with("k:")) {
      auto parsed = parseElementJson(rest);
      out += "[";
      if (parsed && parsed->is_object()) {
        bool first = true;
        for (const auto& [k, v] : parsed->get_object()) {
          if (!first) out += ",";
          first = false;
          out += std::string(k) + "=" + json::serialize(v);
        }
      }
      out += "]";
    } else if (element.starts_with("v:")) {
      out += "[=" + std::string(rest) + "]";
    } else if (element.starts_with("i:")) {
      out += "[" + std::string(rest) + "]";
    } else {
      out += "." + element;
    }
  }
  return out;
}

}  // namespace berth::apiserver::patch::internal
