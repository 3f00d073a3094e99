#include "apiserver/admission/json_util.h"

#include <cstdio>

namespace berth::apiserver::admission {

namespace json = boost::json;

json::object& ensureObject(json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

json::array& ensureArray(json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string joinQuote(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += goQuote(items[i]);
  }
  return out;
}

core::Status forbidden(const Attributes& a, std::string_view why) {
  std::string resource = a.resource->qualifiedResource();
  return core::Status::forbidden(resource + " \"" + a.name + "\" is forbidden: " + std::string(why))
      .withDetails(a.name, a.resource->group, a.resource->plural);
}

bool isResource(const Attributes& a, std::string_view group, std::string_view plural,
                std::string_view subresource) {
  return a.resource && a.resource->group == group && a.resource->plural == plural &&
         a.subresource == subresource;
}

}  // namespace berth::apiserver::admission
