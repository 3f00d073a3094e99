// JSON patch (RFC 6902) and JSON merge patch (RFC 7386). Strategic merge is in strategic.cpp.
#include "apiserver/patch/patch.h"

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/patch/list_types.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;
using core::Result;
using core::Status;

// What upstream answers when a well-formed JSON patch does not apply (422 Invalid); the detail
// that evanphx/json-patch reports follows the fixed text so a user can see what failed.
Status notApplicable(std::string detail) {
  return Status::generic(
      422, "Invalid",
      "the server rejected our request due to an error in our request: " + std::move(detail));
}

// RFC 6901: "" is the whole document; otherwise '/'-separated tokens with ~1 → '/', ~0 → '~'.
Result<std::vector<std::string>> parsePointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') {
    return notApplicable("JSON pointer must be empty or start with a \"/\": " +
                         std::string(pointer));
  }
  std::string current;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 < pointer.size() && pointer[i + 1] == '0') {
        current += '~';
      } else if (i + 1 < pointer.size() && pointer[i + 1] == '1') {
        current += '/';
      } else {
        return notApplicable("invalid JSON pointer escape in " + std::string(pointer));
      }
      ++i;
      continue;
    }
    current += pointer[i];
  }
  return tokens;
}

// A canonical array index: "0" or [1-9][0-9]*, and not absurdly long.
std::optional<size_t> parseIndex(std::string_view token) {
  if (token.empty() || token.size() > 9) return std::nullopt;
  if (token.size() > 1 && token.front() == '0') return std::nullopt;
  size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

// The value at tokens[0..count), or nullptr.
json::value* resolve(json::value& root, const std::vector<std::string>& tokens, size_t count) {
  json::value* cur = &root;
  for (size_t i = 0; i < count; ++i) {
    if (cur->is_object()) {
      auto it = cur->get_object().find(tokens[i]);
      if (it == cur->get_object().end()) return nullptr;
      cur = &it->value();
    } else if (cur->is_array()) {
      auto idx = parseIndex(tokens[i]);
      if (!idx || *idx >= cur->get_array().size()) return nullptr;
      cur = &cur->get_array()[*idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

class JsonPatcher {
 public:
  explicit JsonPatcher(json::value doc) : doc_(std::move(doc)) {}

  Status apply(const json::object& op) {
    std::string kind = stringField(op, "op");
    auto pathText = op.find("path");
    if (pathText == op.end() || !pathText->value().is_string()) {
      return notApplicable("operation missing path: " + json::serialize(op));
    }
    std::string path(pathText->value().get_string());
    auto tokens = parsePointer(path);
    if (!tokens.ok()) return tokens.status();
    const json::value* value = nullptr;
    if (auto it = op.find("value"); it != op.end()) value = &it->value();

    if (kind == "add" || kind == "replace" || kind == "test") {
      if (!value) return notApplicable(kind + " operation missing value: " + path);
    }
    if (kind == "add") return add(*tokens, path, *value);
    if (kind == "remove") return remove(*tokens, path, nullptr);
    if (kind == "replace") return replace(*tokens, path, *value);
    if (kind == "test") {
      json::value* have = resolve(doc_, *tokens, tokens->size());
      if (!have || !internal::jsonEqual(*have, *value)) {
        return notApplicable("testing value " + path + " failed: test failed");
      }
      return Status();
    }
    if (kind == "move" || kind == "copy") {
      auto fromText = op.find("from");
      if (fromText == op.end() || !fromText->value().is_string()) {
        return notApplicable(kind + " operation missing from: " + json::serialize(op));
      }
      std::string from(fromText->value().get_string());
      auto fromTokens = parsePointer(from);
      if (!fromTokens.ok()) return fromTokens.status();
      if (kind == "move") {
        if (path.size() > from.size() && path.compare(0, from.size(), from) == 0 &&
            path[from.size()] == '/') {
          return notApplicable("move operation cannot move a value into one of its children: " +
                               path);
        }
        json::value moved;
        if (auto s = remove(*fromTokens, from, &moved); !s.ok()) return s;
        return add(*tokens, path, moved);
      }
      json::value* source = resolve(doc_, *fromTokens, fromTokens->size());
      if (!source)
        return notApplicable("copy operation does not apply: doc is missing from path: " + from);
      json::value copied = *source;
      return add(*tokens, path, copied);
    }
    return notApplicable("Unexpected kind: " + kind);
  }

  json::value& document() { return doc_; }

 private:
  static std::string stringField(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return "";
    return std::string(it->value().get_string());
  }

  Status add(const std::vector<std::string>& tokens, const std::string& path,
             const json::value& value) {
    if (tokens.empty()) {
      doc_ = value;
      return Status();
    }
    json::value* parent = resolve(doc_, tokens, tokens.size() - 1);
    if (!parent) return notApplicable("add operation does not apply: doc is missing path: " + path);
    const std::string& last = tokens.back();
    if (parent->is_object()) {
      parent->get_object()[last] = value;
      return Status();
    }
    if (parent->is_array()) {
      auto& arr = parent->get_array();
      if (last == "-") {
        arr.push_back(value);
        return Status();
      }
      auto idx = parseIndex(last);
      if (!idx || *idx > arr.size()) {
        return notApplicable("add operation does not apply: index out of bounds: " + path);
      }
      arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(*idx), value);
      return Status();
    }
    return notApplicable("add operation does not apply: doc is missing path: " + path);
  }

  Status remove(const std::vector<std::string>& tokens, const std::string& path,
                json::value* removed) {
    std::string what = removed ? "move" : "remove";
    if (tokens.empty()) {
      return notApplicable(what + " operation does not apply: cannot remove the whole document");
    }
    json::value* parent = resolve(doc_, tokens, tokens.size() - 1);
    const std::string& last = tokens.back();
    if (parent && parent->is_object()) {
      auto& obj = parent->get_object();
      auto it = obj.find(last);
      if (it != obj.end()) {
        if (removed) *removed = it->value();
        obj.erase(it);
        return Status();
      }
    } else if (parent && parent->is_array()) {
      auto& arr = parent->get_array();
      auto idx = parseIndex(last);
      if (idx && *idx < arr.size()) {
        if (removed) *removed = arr[*idx];
        arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(*idx));
        return Status();
      }
    }
    return notApplicable(what + " operation does not apply: doc is missing path: \"" + path +
                         "\": missing value");
  }

  Status replace(const std::vector<std::string>& tokens, const std::string& path,
                 const json::value& value) {
    json::value* target = resolve(doc_, tokens, tokens.size());
    if (!target) {
      return notApplicable("replace operation does not apply: doc is missing key: " + path +
                           ": missing value");
    }
    *target = value;
    return Status();
  }

  json::value doc_;
};

// RFC 7386 MergePatch(target, patch), applied to `target` in place: members the patch leaves
// alone are not copied, and existing members keep their places (new ones are appended).
void mergePatchInto(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  json::object& result = target.get_object();
  for (const auto& [key, value] : patch.get_object()) {
    if (value.is_null()) {
      result.erase(key);
      continue;
    }
    auto it = result.find(key);
    if (it != result.end()) {
      mergePatchInto(it->value(), value);
      continue;
    }
    json::value fresh;
    mergePatchInto(fresh, value);
    result[key] = std::move(fresh);
  }
}

}  // namespace

core::Result<json::value> applyJsonPatch(const json::value& document, const json::value& patch) {
  if (!patch.is_array()) {
    return Status::badRequest("json: cannot unmarshal " +
                              std::string(patch.is_object() ? "object" : "value") +
                              " into Go value of type jsonpatch.Patch");
  }
  for (const auto& op : patch.get_array()) {
    if (!op.is_object()) {
      return Status::badRequest(
          "json: cannot unmarshal value into Go value of type "
          "jsonpatch.Operation");
    }
  }
  JsonPatcher patcher(document);
  for (const auto& op : patch.get_array()) {
    if (auto s = patcher.apply(op.get_object()); !s.ok()) return s;
  }
  return std::move(patcher.document());
}

core::Result<json::value> applyMergePatch(json::value document, const json::value& patch) {
  mergePatchInto(document, patch);
  return document;
}

}  // namespace berth::apiserver::patch
