#include "store/encryption/encryption_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "core/base64.h"

namespace berth::store::encryption {

namespace {

using core::Result;
using core::Status;

Status invalid(const std::string& where, const std::string& what) {
  return Status::badRequest("encryption provider config: " + where + ": " + what);
}

Result<std::shared_ptr<const Provider>> parseProvider(const std::string& where,
                                                      const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1)
    return invalid(where, "a provider is a map with exactly one of aesgcm, aescbc, secretbox, "
                          "identity");
  std::string type = node.begin()->first.as<std::string>();
  YAML::Node body = node.begin()->second;
  if (type == "identity") return std::shared_ptr<const Provider>(makeIdentity());
  if (type == "kms")
    return invalid(where, "kms providers need a KMS plugin, which berth does not support");
  if (type != "aesgcm" && type != "aescbc" && type != "secretbox")
    return invalid(where, "unknown provider \"" + type + "\"");
  YAML::Node keys = body["keys"];
  if (!keys || !keys.IsSequence() || keys.size() == 0)
    return invalid(where + "." + type, "keys: at least one key is required");
  // A provider with several keys encrypts with the first and reads with any: one Provider per
  // key; the caller keeps them in order.
  if (keys.size() > 1)
    return invalid(where + "." + type,
                   "list one key per provider entry (repeat the provider for more keys)");
  YAML::Node k = keys[0];
  std::string name = k["name"] ? k["name"].as<std::string>() : "";
  std::string secret64 = k["secret"] ? k["secret"].as<std::string>() : "";
  if (name.empty()) return invalid(where + "." + type + ".keys[0]", "name is required");
  if (name.find(':') != std::string::npos)
    return invalid(where + "." + type + ".keys[0]", "name may not contain \":\"");
  auto secret = core::base64Decode(secret64);
  if (!secret || secret->empty())
    return invalid(where + "." + type + ".keys[0]", "secret must be non-empty base64");
  Key key{name, std::move(*secret)};
  Result<std::unique_ptr<Provider>> p = type == "aesgcm"   ? makeAesGcm(std::move(key))
                                        : type == "aescbc" ? makeAesCbc(std::move(key))
                                                           : makeSecretbox(std::move(key));
  if (!p.ok()) return invalid(where, p.status().message());
  return std::shared_ptr<const Provider>(std::move(*p));
}

// Expands a provider entry with several keys into one entry per key (first key first).
std::vector<YAML::Node> perKeyEntries(const YAML::Node& node) {
  std::vector<YAML::Node> out;
  if (node.IsMap() && node.size() == 1) {
    YAML::Node body = node.begin()->second;
    YAML::Node keys = body ? body["keys"] : YAML::Node();
    if (keys && keys.IsSequence() && keys.size() > 1) {
      for (const auto& k : keys) {
        YAML::Node one;
        YAML::Node inner;
        inner["keys"].push_back(k);
        one[node.begin()->first.as<std::string>()] = inner;
        out.push_back(one);
      }
      return out;
    }
  }
  out.push_back(node);
  return out;
}

}  // namespace

const Rule* Config::ruleFor(std::string_view qualifiedResource) const {
  std::string_view group;
  if (auto dot = qualifiedResource.find('.'); dot != std::string_view::npos)
    group = qualifiedResource.substr(dot + 1);
  std::string groupWildcard = "*." + std::string(group);
  const Rule* wildcard = nullptr;
  const Rule* all = nullptr;
  for (const auto& rule : rules) {
    for (const auto& r : rule.resources) {
      if (r == qualifiedResource) return &rule;
      if (r == groupWildcard && !wildcard) wildcard = &rule;
      if (r == "*.*" && !all) all = &rule;
    }
  }
  return wildcard ? wildcard : all;
}

Result<Config> parseConfig(std::string_view text) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const std::exception& e) {
    return Status::badRequest(std::string("encryption provider config: not YAML: ") + e.what());
  }
  try {
    if (!doc.IsMap()) return invalid("document", "must be an EncryptionConfiguration object");
    std::string kind = doc["kind"] ? doc["kind"].as<std::string>() : "";
    std::string apiVersion = doc["apiVersion"] ? doc["apiVersion"].as<std::string>() : "";
    if (kind != "EncryptionConfiguration" ||
        (apiVersion != "apiserver.config.k8s.io/v1" && apiVersion != "apiserver.k8s.io/v1"))
      return invalid("document", "kind must be EncryptionConfiguration and apiVersion "
                                 "apiserver.config.k8s.io/v1 (got " +
                                     apiVersion + " " + kind + ")");
    Config cfg;
    YAML::Node resources = doc["resources"];
    if (!resources || !resources.IsSequence() || resources.size() == 0)
      return invalid("resources", "at least one entry is required");
    for (size_t i = 0; i < resources.size(); ++i) {
      std::string where = "resources[" + std::to_string(i) + "]";
      Rule rule;
      YAML::Node names = resources[i]["resources"];
      if (!names || !names.IsSequence() || names.size() == 0)
        return invalid(where + ".resources", "list at least one resource");
      for (const auto& n : names) rule.resources.push_back(n.as<std::string>());
      YAML::Node providers = resources[i]["providers"];
      if (!providers || !providers.IsSequence() || providers.size() == 0)
        return invalid(where + ".providers", "list at least one provider");
      for (size_t j = 0; j < providers.size(); ++j) {
        for (const auto& entry : perKeyEntries(providers[j])) {
          auto p = parseProvider(where + ".providers[" + std::to_string(j) + "]", entry);
          if (!p.ok()) return p.status();
          rule.providers.push_back(std::move(*p));
        }
      }
      cfg.rules.push_back(std::move(rule));
    }
    return cfg;
  } catch (const std::exception& e) {
    return Status::badRequest(std::string("encryption provider config: ") + e.what());
  }
}

Result<Config> loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::badRequest("cannot read encryption provider config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str());
}

}  // namespace berth::store::encryption
