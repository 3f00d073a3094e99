#pragma once
// The HTTP underneath the registry client: one blocking request per call over plain TCP or TLS
// (client/http_connection.h), URLs as the distribution API and its token servers hand them out,
// and WWW-Authenticate challenges.
//
// Thread-safety: RegistryHttp may be used from several threads (its TLS context cache is locked).
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/url_encode.h"
#include "kubelet/images/registries_config.h"

namespace berth::client {
class TlsContext;
}

namespace berth::kubelet::images {

struct Url {
  std::string scheme, host;  // host as written, [v6] with brackets
  int port = 0;
  std::string target = "/";  // path and query
  std::string hostPort() const;
  std::string string() const { return scheme + "://" + hostPort() + target; }
};
// Absolute http(s) URLs only; BadRequest otherwise.
core::Result<Url> parseUrl(std::string_view url);
// `location` (absolute, or a path relative to `base`'s host) as an absolute URL.
core::Result<Url> resolveUrl(const Url& base, std::string_view location);
using core::urlEncode;  // query values (scope, service)

// `Bearer realm="...",service="...",scope="..."` → scheme "bearer" and its parameters.
struct Challenge {
  std::string scheme;  // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;
};
Challenge parseChallenge(std::string_view header);

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // unless streamed to a sink
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RegistryHttp {
 public:
  explicit RegistryHttp(const RegistriesConfig& config) : config_(config) {}
  // GET `url`, following redirects (Authorization is dropped when one leaves the host). A 200
  // body goes to `sink` when given (return false to stop), else into the reply up to `maxBody`.
  core::Result<HttpReply> get(const Url& url,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              size_t maxBody,
                              const std::function<bool(std::string_view)>& sink = nullptr);

 private:
  core::Result<std::shared_ptr<client::TlsContext>> tlsFor(const Url& url);

  const RegistriesConfig& config_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<client::TlsContext>> tls_;  // guarded by mu_
};

}  // namespace berth::kubelet::images
