#pragma once
// Discovery for controllers that work over every resource the server serves (garbage collector,
// namespace deleter) or map an ownerReference's apiVersion/kind to a resource (disruption's
// scale lookup): one pass over /api and /apis, keeping each group's preferred version, as
// client-go's ServerPreferredResources + a RESTMapper do.
//
// Thread-safety: a DiscoveryResult is immutable once returned; share it by shared_ptr.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/rest_client.h"
#include "core/result.h"

namespace berth::controllers {

struct ApiResource {
  client::Resource resource;  // group, preferred version, plural, namespaced
  std::string kind;
  std::vector<std::string> verbs;
  bool hasVerb(std::string_view verb) const;
  // "pods", "deployments.apps": how upstream names a resource in messages.
  std::string qualified() const;
};

struct DiscoveryResult {
  std::vector<ApiResource> resources;
  // "group/version: message" of every group version that failed (the rest is still usable).
  std::vector<std::string> failedGroups;

  // The resource serving `kind` in the group of `apiVersion` ("apps/v1" → apps), any version.
  const ApiResource* forKind(std::string_view apiVersion, std::string_view kind) const;
  const ApiResource* forResource(std::string_view group, std::string_view plural) const;
};

// Fails only when /api or /apis themselves cannot be read.
core::Result<std::shared_ptr<const DiscoveryResult>> discoverResources(client::RestClient& client);

// "apps/v1" → "apps"; "v1" → "".
std::string groupOf(std::string_view apiVersion);

}  // namespace berth::controllers
