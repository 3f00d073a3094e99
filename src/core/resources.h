#pragma once
// The catalogue of API resources Berth serves: group, version, kind, plural and singular names,
// scope, short names, categories, verbs and subresources — what discovery publishes and what the
// API server routes on. One entry per (group, version, resource); versions of one resource share
// storage (storagePrefix) and convert through the kinds layer.
//
// Thread-safety: the catalogue is built once, before main() returns from static init, and is
// read-only afterwards.
#include <string>
#include <string_view>
#include <vector>

namespace berth::core {

struct ResourceType {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string kind;      // "Pod"
  std::string plural;    // "pods"
  std::string singular;  // "pod"
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;  // "all"
  std::vector<std::string> verbs;
  std::vector<std::string> subresources;  // "status", "scale", "binding", "eviction", "log", ...
  // Storage key prefix, shared by every version of the resource: "/registry/pods/",
  // "/registry/deployments.apps/". Keys are prefix + [namespace + "/"] + name.
  std::string storagePrefix;
  // The group and version objects are stored in; other versions convert to and from it.
  // (events.k8s.io/v1 Events are stored as core/v1 Events, as upstream does.)
  // A create-only resource that is answered, not stored (SelfSubjectAccessReview, ...).
  bool virtualResource = false;
  std::string storageGroup;
  std::string storageVersion;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string groupVersion() const { return apiVersion(); }
  std::string listKind() const { return kind + "List"; }
  // "pods", "deployments.apps": how upstream names a resource in error messages.
  std::string qualifiedResource() const { return group.empty() ? plural : plural + "." + group; }
  bool hasSubresource(std::string_view name) const;
  bool isStorageVersion() const { return group == storageGroup && version == storageVersion; }
};

struct GroupVersions {
  std::string group;
  std::vector<std::string> versions;  // preferred first
};

// Every served resource.
const std::vector<ResourceType>& allResources();
// Groups (except core "") in discovery order, each with its versions, preferred first.
const std::vector<GroupVersions>& apiGroups();
// Lookup by group, version and plural. nullptr when not served.
const ResourceType* findResource(std::string_view group, std::string_view version,
                                 std::string_view plural);
// Lookup by group, version and Kind.
const ResourceType* findResourceByKind(std::string_view group, std::string_view version,
                                       std::string_view kind);
// Lookup by apiVersion ("apps/v1", "v1") and Kind.
const ResourceType* findByApiVersionKind(std::string_view apiVersion, std::string_view kind);
// The storage-version entry of a resource.
const ResourceType* storageResource(const ResourceType& rt);

// Splits "apps/v1" into {"apps","v1"} and "v1" into {"","v1"}.
std::pair<std::string, std::string> splitApiVersion(std::string_view apiVersion);

}  // namespace berth::core
