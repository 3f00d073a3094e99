// Kubeconfig loading (clientcmd's subset that Berth and kubectl's own files use).
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "client/rest_client.h"
#include "core/base64.h"

namespace berth::client {

using core::Status;

namespace {

core::Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::badRequest("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A named entry of a kubeconfig list ("clusters", "users", "contexts"), its inner map.
YAML::Node findNamed(const YAML::Node& root, const char* list, const char* inner,
                     const std::string& name) {
  for (const auto& item : root[list]) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[inner];
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::string str(const YAML::Node& n, const char* key) {
  return n && n[key] ? n[key].as<std::string>() : std::string();
}

// "<field>-data" (base64) wins over "<field>" (a file path relative to the kubeconfig).
core::Result<std::string> dataOrFile(const YAML::Node& n, const std::string& field,
                                     const std::string& dir) {
  std::string data = str(n, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = core::base64Decode(data);
    if (!decoded) return Status::badRequest(field + "-data is not valid base64");
    return *decoded;
  }
  std::string file = str(n, field.c_str());
  if (file.empty()) return std::string();
  if (file[0] != '/') file = dir + "/" + file;
  return readWholeFile(file);
}

}  // namespace

core::Result<RestConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status::badRequest("cannot load kubeconfig " + path + ": " + e.what());
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  try {
    std::string ctxName = context.empty() ? str(root, "current-context") : context;
    if (ctxName.empty())
      return Status::badRequest("kubeconfig " + path + " has no current-context");
    YAML::Node ctx = findNamed(root, "contexts", "context", ctxName);
    if (!present(ctx))
      return Status::badRequest("context \"" + ctxName + "\" not found in " + path);
    YAML::Node cluster = findNamed(root, "clusters", "cluster", str(ctx, "cluster"));
    if (!present(cluster))
      return Status::badRequest("cluster of context \"" + ctxName + "\" not found");
    YAML::Node user = findNamed(root, "users", "user", str(ctx, "user"));

    RestConfig c;
    c.server = str(cluster, "server");
    if (c.server.empty()) return Status::badRequest("cluster has no server");
    c.insecureSkipVerify = str(cluster, "insecure-skip-tls-verify") == "true";
    auto ca = dataOrFile(cluster, "certificate-authority", dir);
    if (!ca.ok()) return ca.status();
    c.caPem = *ca;
    if (present(user)) {
      c.bearerToken = str(user, "token");
      if (c.bearerToken.empty() && !str(user, "tokenFile").empty()) {
        auto t = readWholeFile(str(user, "tokenFile"));
        if (!t.ok()) return t.status();
        c.bearerToken = *t;
        while (!c.bearerToken.empty() &&
               std::isspace(static_cast<unsigned char>(c.bearerToken.back())))
          c.bearerToken.pop_back();
      }
      auto cert = dataOrFile(user, "client-certificate", dir);
      if (!cert.ok()) return cert.status();
      auto key = dataOrFile(user, "client-key", dir);
      if (!key.ok()) return key.status();
      c.clientCertPem = *cert;
      c.clientKeyPem = *key;
    }
    std::string ns = str(ctx, "namespace");
    if (!ns.empty()) c.defaultNamespace = ns;
    return c;
  } catch (const std::exception& e) {
    return Status::badRequest("malformed kubeconfig " + path + ": " + e.what());
  }
}

}  // namespace berth::client
