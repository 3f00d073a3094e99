#include "kubelet/images/registries_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/base64.h"

namespace berth::kubelet::images {

using core::Status;

std::string RegistryEndpoint::hostPort() const {
  bool defaultPort = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return defaultPort ? host : host + ":" + std::to_string(port);
}

core::Result<RegistryEndpoint> parseEndpoint(std::string_view url) {
  RegistryEndpoint e;
  std::string_view rest = url;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    e.scheme = std::string(rest.substr(0, p));
    rest = rest.substr(p + 3);
    if (e.scheme != "http" && e.scheme != "https")
      return Status::badRequest("registry endpoint \"" + std::string(url) +
                                "\": scheme must be http or https");
  }
  // A path (k3s allows "/v2" or a prefix) is ignored: the API root is always /v2.
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  e.port = e.scheme == "https" ? 443 : 80;
  std::string_view portText;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return Status::badRequest("registry endpoint \"" + std::string(url) + "\": bad IPv6 host");
    e.host = std::string(rest.substr(0, close + 1));
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':')
        return Status::badRequest("registry endpoint \"" + std::string(url) + "\": bad host");
      portText = rest.substr(close + 2);
    }
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    e.host = std::string(rest.substr(0, colon));
    portText = rest.substr(colon + 1);
  } else {
    e.host = std::string(rest);
  }
  if (e.host.empty() || e.host.find_first_of(" @?#") != std::string::npos)
    return Status::badRequest("registry endpoint \"" + std::string(url) + "\": bad host");
  if (!portText.empty() || (rest.size() && rest.back() == ':')) {
    int port = 0;
    for (char c : portText) {
      if (c < '0' || c > '9' || port > 65535)
        return Status::badRequest("registry endpoint \"" + std::string(url) + "\": bad port");
      port = port * 10 + (c - '0');
    }
    if (port <= 0 || port > 65535)
      return Status::badRequest("registry endpoint \"" + std::string(url) + "\": bad port");
    e.port = port;
  }
  return e;
}

std::vector<RegistryEndpoint> RegistriesConfig::endpointsFor(const std::string& registry) const {
  std::vector<RegistryEndpoint> out;
  auto it = mirrors.find(registry);
  if (it == mirrors.end()) it = mirrors.find("*");
  if (it != mirrors.end()) out = it->second.endpoints;
  if (disableDefaultEndpoint) return out;
  std::string upstream = registry == "docker.io" ? "registry-1.docker.io" : registry;
  if (auto e = parseEndpoint("https://" + upstream); e.ok()) {
    bool listed = false;
    for (const auto& m : out) listed = listed || (m.host == e->host && m.port == e->port);
    if (!listed) out.push_back(*e);
  }
  return out;
}

std::string RegistriesConfig::rewrite(const std::string& registry, const std::string& path) const {
  auto it = mirrors.find(registry);
  if (it == mirrors.end()) it = mirrors.find("*");
  if (it == mirrors.end()) return path;
  for (const auto& [pattern, replacement] : it->second.rewrites) {
    try {  // the patterns were compiled once at parse time; this cannot throw then
      std::regex re(pattern, std::regex::ECMAScript);
      if (std::regex_search(path, re)) return std::regex_replace(path, re, replacement);
    } catch (const std::regex_error&) {
    }
  }
  return path;
}

RegistryHostConfig RegistriesConfig::hostConfig(const RegistryEndpoint& endpoint) const {
  for (const auto& key : {endpoint.hostPort(), endpoint.host + ":" + std::to_string(endpoint.port),
                          endpoint.url(), endpoint.host}) {
    if (auto it = configs.find(key); it != configs.end()) return it->second;
  }
  if (auto it = configs.find("*"); it != configs.end()) return it->second;
  return {};
}

namespace {

core::Result<std::string> scalar(const YAML::Node& n, const std::string& where) {
  if (!n) return std::string();
  if (!n.IsScalar()) return Status::badRequest(where + ": expected a string");
  return n.Scalar();
}

core::Status parseHostConfig(const YAML::Node& n, const std::string& key, RegistryHostConfig* c) {
  if (!n.IsMap()) return Status::badRequest("configs." + key + ": expected a mapping");
  if (auto auth = n["auth"]) {
    if (!auth.IsMap()) return Status::badRequest("configs." + key + ".auth: expected a mapping");
    for (auto [field, dest] : {std::pair{"username", &c->username},
                               {"password", &c->password},
                               {"identitytoken", &c->identityToken},
                               {"identity_token", &c->identityToken}}) {
      auto v = scalar(auth[field], "configs." + key + ".auth." + field);
      if (!v.ok()) return v.status();
      if (!v->empty()) *dest = *v;
    }
    auto encoded = scalar(auth["auth"], "configs." + key + ".auth.auth");
    if (!encoded.ok()) return encoded.status();
    if (!encoded->empty()) {
      auto decoded = core::base64Decode(*encoded);
      auto colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos)
        return Status::badRequest("configs." + key +
                                  ".auth.auth: expected base64 of user:password");
      c->username = decoded->substr(0, colon);
      c->password = decoded->substr(colon + 1);
    }
  }
  if (auto tls = n["tls"]) {
    if (!tls.IsMap()) return Status::badRequest("configs." + key + ".tls: expected a mapping");
    for (auto [field, dest] : {std::pair{"ca_file", &c->caFile},
                               {"cert_file", &c->certFile},
                               {"key_file", &c->keyFile}}) {
      auto v = scalar(tls[field], "configs." + key + ".tls." + field);
      if (!v.ok()) return v.status();
      *dest = *v;
    }
    auto skip = scalar(tls["insecure_skip_verify"], "configs." + key + ".tls.insecure_skip_verify");
    if (!skip.ok()) return skip.status();
    if (!skip->empty() && *skip != "true" && *skip != "false")
      return Status::badRequest("configs." + key + ".tls.insecure_skip_verify: expected a boolean");
    c->insecureSkipVerify = *skip == "true";
  }
  return {};
}

core::Status parseMirror(const YAML::Node& n, const std::string& key, RegistryMirror* m) {
  if (!n.IsMap()) return Status::badRequest("mirrors." + key + ": expected a mapping");
  if (auto eps = n["endpoint"]) {
    if (!eps.IsSequence())
      return Status::badRequest("mirrors." + key + ".endpoint: expected a list");
    for (const auto& e : eps) {
      auto url = scalar(e, "mirrors." + key + ".endpoint[]");
      if (!url.ok()) return url.status();
      auto ep = parseEndpoint(*url);
      if (!ep.ok()) return ep.status();
      m->endpoints.push_back(*ep);
    }
  }
  if (auto rw = n["rewrite"]) {
    if (!rw.IsMap()) return Status::badRequest("mirrors." + key + ".rewrite: expected a mapping");
    for (const auto& kv : rw) {
      auto from = scalar(kv.first, "mirrors." + key + ".rewrite");
      auto to = scalar(kv.second, "mirrors." + key + ".rewrite." + kv.first.Scalar());
      if (!from.ok()) return from.status();
      if (!to.ok()) return to.status();
      try {
        std::regex check(*from, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Status::badRequest("mirrors." + key + ".rewrite: bad pattern \"" + *from + "\"");
      }
      m->rewrites.emplace_back(*from, *to);
    }
  }
  return {};
}

}  // namespace

core::Result<RegistriesConfig> parseRegistriesConfig(std::string_view yaml) {
  RegistriesConfig out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::badRequest(std::string("registries.yaml: ") + e.what());
  }
  if (!root || root.IsNull()) return out;
  if (!root.IsMap()) return Status::badRequest("registries.yaml: expected a mapping");
  try {
    if (auto mirrors = root["mirrors"]) {
      if (!mirrors.IsMap())
        return Status::badRequest("registries.yaml: mirrors: expected a mapping");
      for (const auto& kv : mirrors) {
        auto key = scalar(kv.first, "mirrors");
        if (!key.ok()) return key.status();
        if (auto st = parseMirror(kv.second, *key, &out.mirrors[*key]); !st.ok()) return st;
      }
    }
    if (auto configs = root["configs"]) {
      if (!configs.IsMap())
        return Status::badRequest("registries.yaml: configs: expected a mapping");
      for (const auto& kv : configs) {
        auto key = scalar(kv.first, "configs");
        if (!key.ok()) return key.status();
        if (auto st = parseHostConfig(kv.second, *key, &out.configs[*key]); !st.ok()) return st;
      }
    }
  } catch (const YAML::Exception& e) {  // e.g. a key that is itself a mapping
    return Status::badRequest(std::string("registries.yaml: ") + e.what());
  }
  return out;
}

core::Result<RegistriesConfig> loadRegistriesConfig(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return RegistriesConfig{};
  std::ifstream in(path);
  if (!in) return Status::badRequest("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = parseRegistriesConfig(ss.str());
  if (!parsed.ok()) return Status::badRequest(path + ": " + parsed.status().message());
  return parsed;
}

}  // namespace berth::kubelet::images
