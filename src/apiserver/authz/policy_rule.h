#pragma once
// One rbac.authorization.k8s.io/v1 PolicyRule, as the authorizers and reviews pass it around.
// Matching and covering live in rbac_rules.h.
#include <boost/json/fwd.hpp>

#include <string>
#include <vector>

namespace berth::apiserver::authz {

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> apiGroups;
  std::vector<std::string> resources;  // "pods", "pods/log", "*/scale", "*"
  std::vector<std::string> resourceNames;
  std::vector<std::string> nonResourceURLs;  // "/healthz", "/apis/*", "*"

  static PolicyRule fromJson(const boost::json::object& rule);
  boost::json::object toJson() const;
};

}  // namespace berth::apiserver::authz
