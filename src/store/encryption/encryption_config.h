#pragma once
// Upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1), as given to
// `--encryption-provider-config`: rules of resources and their providers. The first provider of
// a rule encrypts new writes; every provider of the rule is tried, by prefix, to read.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/encryption/providers.h"

namespace berth::store::encryption {

struct Rule {
  // As written: "secrets", "deployments.apps", "*.apps", "*." (every core resource), "*.*".
  std::vector<std::string> resources;
  std::vector<std::shared_ptr<const Provider>> providers;  // never empty
};

struct Config {
  std::vector<Rule> rules;
  // The rule for a resource ("secrets", "deployments.apps"): exact names win over group
  // wildcards, which win over "*.*", whatever their order in the file (upstream rejects
  // configurations where a wildcard shadows a later exact entry; we pick the most specific).
  // nullptr = stored as is.
  const Rule* ruleFor(std::string_view qualifiedResource) const;
};

// Parses the YAML or JSON document. Errors say which entry is wrong and why.
core::Result<Config> parseConfig(std::string_view text);
core::Result<Config> loadConfig(const std::string& path);

}  // namespace berth::store::encryption
