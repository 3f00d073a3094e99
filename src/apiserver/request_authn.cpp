// The authentication filters after the transport's (client certificate or bearer token, in
// http::Server): anonymous requests and impersonation, as upstream's
// apiserver/pkg/endpoints/filters/authentication.go and impersonation.go.
#include <algorithm>

#include "apiserver/api_handler.h"
#include "apiserver/authn/service_account_token.h"
#include "apiserver/authz/request_info.h"
#include "apiserver/replies.h"

namespace berth::apiserver {

namespace {

constexpr std::string_view kUserHeader = "impersonate-user";
constexpr std::string_view kUidHeader = "impersonate-uid";
constexpr std::string_view kGroupHeader = "impersonate-group";
constexpr std::string_view kExtraPrefix = "impersonate-extra-";
constexpr std::string_view kAnonymous = "system:anonymous";

// Repeated headers arrive joined by ", " (http::Request); kubectl sends one per --as-group.
std::vector<std::string> headerValues(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t comma = joined.find(',', start);
    std::string v = joined.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    while (!v.empty() && v.back() == ' ') v.pop_back();
    if (!v.empty()) out.push_back(std::move(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    };
    if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

http::UserInfo anonymousUser() {
  http::UserInfo u;
  u.name = std::string(kAnonymous);
  u.groups = {"system:unauthenticated"};
  return u;
}

bool ApiHandler::authenticateRequest(http::Request& req, http::ResponseWriter& w) {
  if (req.user.anonymous()) {
    // With anonymous auth on, upstream hands credential-less requests to the authorizer as
    // system:anonymous. Without an authorizer every request is allowed, so until one is
    // configured anonymous requests stay 401 rather than getting the whole API.
    if (!anonymousAuth_ || authorizer_ == nullptr) {
      sendStatus(w, core::Status::unauthorized());
      return false;
    }
    req.user = anonymousUser();
  }
  bool impersonating = false;
  for (const auto& [name, value] : req.headers) {
    (void)value;
    if (name.rfind("impersonate-", 0) == 0) impersonating = true;
  }
  return !impersonating || impersonate(req, w);
}

// Each impersonated attribute is asked of the authorizer with verb "impersonate" (upstream's
// order: user, uid, groups, extras); the first refusal answers 403 and nothing is impersonated.
bool ApiHandler::impersonate(http::Request& req, http::ResponseWriter& w) {
  std::string user = req.header(kUserHeader);
  std::string uid = req.header(kUidHeader);
  std::vector<std::string> groups = headerValues(req.header(kGroupHeader));
  std::map<std::string, std::vector<std::string>> extra;
  std::vector<std::string> used;
  for (const auto& [name, value] : req.headers) {
    if (name.rfind("impersonate-", 0) != 0) continue;
    used.push_back(name);
    if (name.rfind(kExtraPrefix, 0) == 0) {
      // Extra keys are percent-encoded in header names (keys may hold "/").
      std::string key = percentDecode(name.substr(kExtraPrefix.size()));
      for (auto& v : headerValues(value)) extra[key].push_back(std::move(v));
    }
  }
  if (user.empty()) {
    sendStatus(w, core::Status::internal(
                      "Internal error occurred: requested impersonation of groups, uid or extra "
                      "without impersonating a user"));
    return false;
  }

  std::vector<authz::Attributes> checks;
  auto check = [&](std::string resource, std::string group, std::string name) {
    authz::Attributes a;
    a.user = req.user;
    a.verb = "impersonate";
    a.resourceRequest = true;
    a.resource = std::move(resource);
    a.apiGroup = std::move(group);
    a.name = std::move(name);
    checks.push_back(std::move(a));
    return &checks.back();
  };
  auto serviceAccount = authn::splitServiceAccountUser(user);
  if (serviceAccount) {
    check("serviceaccounts", "", serviceAccount->second)->ns = serviceAccount->first;
  } else {
    check("users", "", user);
  }
  if (!uid.empty()) check("uids", "authentication.k8s.io", uid);
  for (const auto& g : groups) check("groups", "", g);
  for (const auto& [key, values] : extra)
    for (const auto& v : values) check("userextras", "authentication.k8s.io", v)->subresource = key;
  if (authorizer_ != nullptr) {
    for (const auto& a : checks) {
      auto verdict = authorizer_->authorize(a);
      if (!verdict.allowed()) {
        sendStatus(w, authz::forbiddenStatus(a, verdict.reason));
        return false;
      }
    }
  }

  http::UserInfo as;
  as.name = user;
  as.uid = uid;
  as.groups = groups;
  as.extra = std::move(extra);
  if (serviceAccount) {
    for (std::string g : {std::string("system:serviceaccounts"),
                          "system:serviceaccounts:" + serviceAccount->first})
      if (std::find(as.groups.begin(), as.groups.end(), g) == as.groups.end())
        as.groups.push_back(std::move(g));
  }
  std::string implied = user == kAnonymous ? "system:unauthenticated" : "system:authenticated";
  if (std::find(as.groups.begin(), as.groups.end(), implied) == as.groups.end())
    as.groups.push_back(implied);
  req.user = std::move(as);
  for (const auto& name : used) req.headers.erase(name);
  return true;
}

}  // namespace berth::apiserver
