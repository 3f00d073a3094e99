#pragma once
// The catalogue of API resources Berth serves: group, version, kind, plural and singular names,
// scope, short names, categories, verbs and subresources — what discovery publishes and what the
// API server routes on. One entry per (group, version, resource); versions of one resource share
// storage (storagePrefix) and convert through the kinds layer.
//
// Built-in resources are fixed at startup; resources defined at runtime (CustomResourceDefinitions)
// are added and removed with registerResources/unregisterResources, and carry their per-resource
// behaviour (strategy, schema, printer columns, scale paths) in `behavior`.
//
// Thread-safety: every function may be called from any thread. Readers get snapshots; a
// ResourceType reached through any lookup stays valid (unchanged) for the life of the process,
// also after it is replaced or removed, so a request that resolved one may finish with it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace berth::core {

class ResourceBehavior;  // core/resource_behavior.h

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
  // Behaviour of a resource defined at runtime; null for built-ins, whose behaviour lives in
  // core/kinds, printers and the protobuf schema.
  std::shared_ptr<const ResourceBehavior> behavior;

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

// An immutable snapshot of the catalogue; iterates ResourceTypes.
class ResourceSnapshot {
 public:
  using Items = std::vector<std::shared_ptr<const ResourceType>>;
  class iterator {
   public:
    explicit iterator(Items::const_iterator it) : it_(it) {}
    const ResourceType& operator*() const { return **it_; }
    const ResourceType* operator->() const { return it_->get(); }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return it_ != o.it_; }
    bool operator==(const iterator& o) const { return it_ == o.it_; }

   private:
    Items::const_iterator it_;
  };
  explicit ResourceSnapshot(std::shared_ptr<const Items> items) : items_(std::move(items)) {}
  iterator begin() const { return iterator(items_->begin()); }
  iterator end() const { return iterator(items_->end()); }
  size_t size() const { return items_->size(); }

 private:
  std::shared_ptr<const Items> items_;
};

// Every served resource.
ResourceSnapshot allResources();
// Groups (except core "") in discovery order, each with its versions, preferred first.
std::vector<GroupVersions> apiGroups();

// Adds (or replaces) the resources defined by `owner` (a CRD's name): every entry previously
// registered by that owner is removed first. Entries colliding with a built-in (group, version,
// plural) are ignored. Versions of one group should be given in priority order.
void registerResources(const std::string& owner, std::vector<ResourceType> types);
void unregisterResources(const std::string& owner);
// Bumped by every change; caches of derived documents (discovery, OpenAPI) key on it.
uint64_t catalogueGeneration();
// Lookup by group, version and plural. nullptr when not served.
const ResourceType* findResource(std::string_view group, std::string_view version,
                                 std::string_view plural);
// Lookup by group, version and Kind.
const ResourceType* findResourceByKind(std::string_view group, std::string_view version,
                                       std::string_view kind);
// Lookup by apiVersion ("apps/v1", "v1") and Kind.
const ResourceType* findByApiVersionKind(std::string_view apiVersion, std::string_view kind);
// The storage-version entry of a resource (for a removed runtime resource, its last one).
const ResourceType* storageResource(const ResourceType& rt);

// Splits "apps/v1" into {"apps","v1"} and "v1" into {"","v1"}.
std::pair<std::string, std::string> splitApiVersion(std::string_view apiVersion);

}  // namespace berth::core
