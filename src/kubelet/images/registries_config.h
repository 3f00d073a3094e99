#pragma once
// registries.yaml in k3s's format: per-registry mirrors (endpoints tried in order, then the
// registry itself) with optional repository rewrites, and per-host credentials and TLS:
//
//   mirrors:
//     docker.io:
//       endpoint: ["http://127.0.0.1:5000"]
//       rewrite: {"^library/(.*)": "mirrored/$1"}
//     "*": {endpoint: [...]}            # any registry without its own entry
//   configs:
//     "127.0.0.1:5000":
//       auth: {username: u, password: p}   # or auth: base64(u:p), identity_token
//       tls: {insecure_skip_verify: true, ca_file: /path/ca.pem, cert_file: ..., key_file: ...}
//
// Thread-safety: plain values and pure functions.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace berth::kubelet::images {

struct RegistryEndpoint {
  std::string scheme = "https";  // "http" or "https"
  std::string host;              // host or [v6], no port
  int port = 443;
  std::string hostPort() const;  // host[:port] as configs are keyed (port omitted if default)
  std::string url() const { return scheme + "://" + hostPort(); }
};

// "http://host:port", "https://host", "host:5000" (https). InvalidArgument on anything else.
core::Result<RegistryEndpoint> parseEndpoint(std::string_view url);

struct RegistryMirror {
  std::vector<RegistryEndpoint> endpoints;
  std::vector<std::pair<std::string, std::string>> rewrites;  // regex → replacement ($1...)
};

struct RegistryHostConfig {
  std::string username, password, identityToken;
  bool insecureSkipVerify = false;
  std::string caFile, certFile, keyFile;
};

struct RegistriesConfig {
  std::map<std::string, RegistryMirror> mirrors;      // registry host ("docker.io", "*")
  std::map<std::string, RegistryHostConfig> configs;  // endpoint host[:port]
  // Never fall back to the registry itself, only its mirrors (k3s's
  // --disable-default-registry-endpoint); tests set it so no request leaves 127.0.0.1.
  bool disableDefaultEndpoint = false;

  // Where to fetch `registry`'s repositories from, in order: its mirrors (or "*"'s), then the
  // registry itself (docker.io's is registry-1.docker.io), as k3s does.
  std::vector<RegistryEndpoint> endpointsFor(const std::string& registry) const;
  // The repository path to ask `registry`'s mirror for: the first matching rewrite applied.
  std::string rewrite(const std::string& registry, const std::string& path) const;
  // The credentials and TLS settings for one endpoint (empty when none are configured).
  RegistryHostConfig hostConfig(const RegistryEndpoint& endpoint) const;
};

// BadRequest with the problem on malformed YAML or fields of the wrong shape.
core::Result<RegistriesConfig> parseRegistriesConfig(std::string_view yaml);
// A missing file is an empty configuration; an unreadable or malformed one an error.
core::Result<RegistriesConfig> loadRegistriesConfig(const std::string& path);

}  // namespace berth::kubelet::images
