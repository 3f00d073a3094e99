#include "apiserver/authz/request_info.h"

#include <cctype>
#include <vector>

#include "apiserver/authz/selector_attributes.h"

namespace berth::apiserver::authz {
namespace {

std::vector<std::string_view> splitSegments(std::string_view path) {
  // As upstream's splitPath: leading and trailing slashes trimmed, then split on '/'; "" → none.
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string_view> parts;
  if (path.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string firstParam(const std::multimap<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

// Go's strconv.ParseBool, as the parameter codec reads `watch`.
bool goBool(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

// A name a list is pinned to, kept only when it is a valid path segment (as upstream).
std::string exactName(std::string_view selector) {
  std::string found = fieldSelectorValue(selector, "metadata.name");
  if (found == "." || found == ".." || found.find('/') != std::string::npos ||
      found.find('%') != std::string::npos)
    return "";
  return found;
}

}  // namespace

std::string fieldSelectorValue(std::string_view selector, std::string_view field) {
  size_t start = 0;
  while (start <= selector.size()) {
    size_t comma = selector.find(',', start);
    std::string_view term = selector.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (term.substr(0, field.size()) == field) {
      std::string_view rest = term.substr(field.size());
      if (rest.substr(0, 2) == "==") return std::string(rest.substr(2));
      if (rest.substr(0, 1) == "=") return std::string(rest.substr(1));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return "";
}

Attributes requestAttributes(std::string_view method, std::string_view path,
                             const std::multimap<std::string, std::string>& query) {
  Attributes a;
  a.path = std::string(path);
  a.verb = lower(method);
  auto parts = splitSegments(path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return a;
  bool groupless = parts[0] == "api";
  size_t i = 1;
  if (!groupless) {
    if (parts.size() < 4) return a;
    a.apiGroup = std::string(parts[i++]);
  }
  a.resourceRequest = true;
  a.apiVersion = std::string(parts[i++]);
  std::vector<std::string_view> rest(parts.begin() + static_cast<long>(i), parts.end());

  // /watch/... and /proxy/... name the verb in the path.
  if (!rest.empty() && (rest[0] == "watch" || rest[0] == "proxy")) {
    if (rest.size() < 2) {
      // Upstream fails the parse ("unable to determine kind and namespace"); the request is then
      // authorized as what it names: nothing, and is denied.
      a.verb = std::string(rest[0]);
      return a;
    }
    a.verb = std::string(rest[0]);
    rest.erase(rest.begin());
  } else if (method == "POST") {
    a.verb = "create";
  } else if (method == "GET" || method == "HEAD") {
    a.verb = "get";
  } else if (method == "PUT") {
    a.verb = "update";
  } else if (method == "PATCH") {
    a.verb = "patch";
  } else if (method == "DELETE") {
    a.verb = "delete";
  } else {
    a.verb = "";
  }

  if (!rest.empty() && rest[0] == "namespaces") {
    if (rest.size() > 1) {
      a.ns = std::string(rest[1]);
      // /namespaces/x/status and /namespaces/x/finalize are subresources of the namespace.
      if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize")
        rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (rest.size() >= 3 && a.verb != "proxy") a.subresource = std::string(rest[2]);
  if (rest.size() >= 2) a.name = std::string(rest[1]);
  if (!rest.empty()) a.resource = std::string(rest[0]);

  std::string fieldSelector = firstParam(query, "fieldSelector");
  if (a.name.empty() && a.verb == "get") {
    a.verb = goBool(firstParam(query, "watch")) ? "watch" : "list";
    a.name = exactName(fieldSelector);
  }
  if (a.name.empty() && a.verb == "delete") a.verb = "deletecollection";
  // Only collection reads and deletes are narrowed by their selectors (upstream's RequestInfo
  // ignores them on other verbs).
  if (a.verb == "list" || a.verb == "watch" || a.verb == "deletecollection") {
    a.fieldSelector = std::move(fieldSelector);
    a.labelSelector = firstParam(query, "labelSelector");
    parseSelectors(a);
  }
  return a;
}

core::Status forbiddenStatus(const Attributes& a, std::string_view reason) {
  std::string msg;
  const std::string user = "User \"" + a.user.name + "\" cannot " + a.verb;
  if (!a.resourceRequest) {
    msg = user + " path \"" + a.path + "\"";
  } else {
    std::string resource = a.resource;
    if (!a.subresource.empty()) resource += "/" + a.subresource;
    msg = user + " resource \"" + resource + "\" in API group \"" + a.apiGroup + "\"";
    msg += a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"";
  }
  if (!reason.empty()) msg += ": " + std::string(reason);
  // schema.GroupResource.String().
  std::string qualified = a.apiGroup.empty() ? a.resource : a.resource + "." + a.apiGroup;
  std::string full;
  if (qualified.empty() && a.apiGroup.empty()) {
    full = "forbidden: " + msg;
  } else if (a.name.empty()) {
    full = qualified + " is forbidden: " + msg;
  } else {
    full = qualified + " \"" + a.name + "\" is forbidden: " + msg;
  }
  core::Status st = core::Status::forbidden(std::move(full));
  st.withDetails(a.name, a.apiGroup, a.resource);
  return st;
}

}  // namespace berth::apiserver::authz
