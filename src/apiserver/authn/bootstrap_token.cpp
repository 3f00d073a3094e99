#include "apiserver/authn/bootstrap_token.h"

#include <openssl/crypto.h>

#include "apiserver/authn/time_util.h"
#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver::authn {

namespace {

bool lowerAlnum(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

std::string dataField(const boost::json::object& data, std::string_view key) {
  auto v = core::base64Decode(core::stringField(data, key));
  return v ? *v : std::string();
}

}  // namespace

bool isBootstrapTokenForm(std::string_view token) {
  return token.size() == 23 && token[6] == '.' && lowerAlnum(token.substr(0, 6)) &&
         lowerAlnum(token.substr(7));
}

std::optional<http::UserInfo> authenticateBootstrapToken(std::string_view token,
                                                         const ObjectGetter& objects,
                                                         std::chrono::system_clock::time_point now) {
  if (!isBootstrapTokenForm(token)) return std::nullopt;
  std::string id(token.substr(0, 6));
  std::string secretPart(token.substr(7));
  auto secret = objects("secrets", "kube-system", "bootstrap-token-" + id);
  if (!secret || core::stringField(*secret, "type") != "bootstrap.kubernetes.io/token")
    return std::nullopt;
  if (const auto* meta = core::objectField(*secret, "metadata");
      meta && !core::stringField(*meta, "deletionTimestamp").empty())
    return std::nullopt;
  const auto* data = core::objectField(*secret, "data");
  if (!data) return std::nullopt;
  std::string storedSecret = dataField(*data, "token-secret");
  if (dataField(*data, "token-id") != id || storedSecret.size() != secretPart.size() ||
      CRYPTO_memcmp(storedSecret.data(), secretPart.data(), secretPart.size()) != 0)
    return std::nullopt;
  if (dataField(*data, "usage-bootstrap-authentication") != "true") return std::nullopt;
  std::string expiration = dataField(*data, "expiration");
  if (!expiration.empty()) {
    auto t = parseRfc3339(expiration);
    if (!t || *t < now) return std::nullopt;
  }
  http::UserInfo user;
  user.name = "system:bootstrap:" + id;
  user.groups = {"system:bootstrappers"};
  std::string extra = dataField(*data, "auth-extra-groups");
  size_t start = 0;
  while (start <= extra.size() && !extra.empty()) {
    size_t comma = extra.find(',', start);
    std::string g = extra.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!g.empty() && g.front() == ' ') g.erase(g.begin());
    while (!g.empty() && g.back() == ' ') g.pop_back();
    // Upstream refuses the whole token when a group is outside system:bootstrappers:.
    if (g.rfind("system:bootstrappers:", 0) != 0) return std::nullopt;
    if (std::find(user.groups.begin(), user.groups.end(), g) == user.groups.end())
      user.groups.push_back(g);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return user;
}

}  // namespace berth::apiserver::authn
