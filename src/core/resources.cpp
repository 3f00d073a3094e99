#include "core/resources.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <tuple>

namespace berth::core {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

ResourceType make(std::string group, std::string version, std::string kind, std::string plural,
                  bool namespaced, std::vector<std::string> shortNames,
                  std::vector<std::string> subresources = {}, bool inAll = false,
                  std::string storageVersion = "") {
  ResourceType rt;
  rt.group = std::move(group);
  rt.version = std::move(version);
  rt.kind = std::move(kind);
  rt.plural = std::move(plural);
  rt.singular = rt.kind;
  std::transform(rt.singular.begin(), rt.singular.end(), rt.singular.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  rt.namespaced = namespaced;
  rt.shortNames = std::move(shortNames);
  rt.subresources = std::move(subresources);
  if (inAll) rt.categories = {"all"};
  rt.verbs = kAllVerbs;
  rt.storagePrefix =
      "/registry/" + (rt.group.empty() ? rt.plural : rt.plural + "." + rt.group) + "/";
  rt.storageVersion = storageVersion.empty() ? rt.version : std::move(storageVersion);
  rt.storageGroup = rt.group;
  return rt;
}

std::vector<ResourceType> buildCatalogue() {
  std::vector<ResourceType> r;
  // core/v1
  r.push_back(make("", "v1", "Namespace", "namespaces", false, {"ns"}, {"status", "finalize"}));
  r.push_back(make("", "v1", "Pod", "pods", true, {"po"},
                   {"status", "binding", "eviction", "log", "exec", "attach", "portforward",
                    "ephemeralcontainers"},
                   true));
  r.push_back(make("", "v1", "Service", "services", true, {"svc"}, {"status", "proxy"}, true));
  r.push_back(make("", "v1", "Endpoints", "endpoints", true, {"ep"}));
  r.push_back(make("", "v1", "Node", "nodes", false, {"no"}, {"status", "proxy"}));
  r.push_back(make("", "v1", "Event", "events", true, {"ev"}));
  r.push_back(make("", "v1", "ConfigMap", "configmaps", true, {"cm"}));
  r.push_back(make("", "v1", "Secret", "secrets", true, {}));
  r.push_back(make("", "v1", "ServiceAccount", "serviceaccounts", true, {"sa"}, {"token"}));
  r.push_back(make("", "v1", "ReplicationController", "replicationcontrollers", true, {"rc"},
                   {"status", "scale"}, true));
  r.push_back(make("", "v1", "ResourceQuota", "resourcequotas", true, {"quota"}, {"status"}));
  r.push_back(make("", "v1", "LimitRange", "limitranges", true, {"limits"}));
  // apps/v1
  r.push_back(
      make("apps", "v1", "Deployment", "deployments", true, {"deploy"}, {"status", "scale"}, true));
  r.push_back(
      make("apps", "v1", "ReplicaSet", "replicasets", true, {"rs"}, {"status", "scale"}, true));
  r.push_back(make("apps", "v1", "DaemonSet", "daemonsets", true, {"ds"}, {"status"}, true));
  r.push_back(
      make("apps", "v1", "StatefulSet", "statefulsets", true, {"sts"}, {"status", "scale"}, true));
  r.push_back(make("apps", "v1", "ControllerRevision", "controllerrevisions", true, {}));
  // batch/v1
  r.push_back(make("batch", "v1", "Job", "jobs", true, {}, {"status"}, true));
  r.push_back(make("batch", "v1", "CronJob", "cronjobs", true, {"cj"}, {"status"}, true));
  // autoscaling: v2 is stored, v1 converts.
  r.push_back(make("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true,
                   {"hpa"}, {"status"}, true));
  r.push_back(make("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true,
                   {"hpa"}, {"status"}, true, "v2"));
  // networking.k8s.io/v1
  r.push_back(make("networking.k8s.io", "v1", "Ingress", "ingresses", true, {"ing"}, {"status"}));
  r.push_back(make("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, {}));
  r.push_back(
      make("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, {"netpol"}));
  // discovery.k8s.io/v1
  r.push_back(make("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, {}));
  // coordination.k8s.io/v1
  r.push_back(make("coordination.k8s.io", "v1", "Lease", "leases", true, {}));
  // events.k8s.io/v1
  r.push_back(make("events.k8s.io", "v1", "Event", "events", true, {"ev"}));
  // scheduling.k8s.io/v1
  r.push_back(make("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, {"pc"}));
  // policy/v1
  r.push_back(make("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {"pdb"},
                   {"status"}));
  // rbac.authorization.k8s.io/v1
  const std::string rbac = "rbac.authorization.k8s.io";
  r.push_back(make(rbac, "v1", "Role", "roles", true, {}));
  r.push_back(make(rbac, "v1", "RoleBinding", "rolebindings", true, {}));
  r.push_back(make(rbac, "v1", "ClusterRole", "clusterroles", false, {}));
  r.push_back(make(rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", false, {}));
  // Storage, certificates, admission and flow-control configuration, API registration.
  r.push_back(make("", "v1", "PersistentVolume", "persistentvolumes", false, {"pv"}, {"status"}));
  r.push_back(make("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"},
                   {"status"}));
  const std::string storage = "storage.k8s.io";
  r.push_back(make(storage, "v1", "StorageClass", "storageclasses", false, {"sc"}));
  r.push_back(make(storage, "v1", "CSIDriver", "csidrivers", false, {}));
  r.push_back(make(storage, "v1", "CSINode", "csinodes", false, {}));
  r.push_back(make(storage, "v1", "VolumeAttachment", "volumeattachments", false, {}, {"status"}));
  r.push_back(make("certificates.k8s.io", "v1", "CertificateSigningRequest",
                   "certificatesigningrequests", false, {"csr"}, {"status", "approval"}));
  {  // TokenReview: answered by the token authenticators, never stored (identity_api.h).
    ResourceType review = make("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, {});
    review.verbs = {"create"};
    review.virtualResource = true;
    r.push_back(std::move(review));
  }
  const std::string admission = "admissionregistration.k8s.io";
  r.push_back(make(admission, "v1", "ValidatingWebhookConfiguration",
                   "validatingwebhookconfigurations", false, {}));
  r.push_back(make(admission, "v1", "MutatingWebhookConfiguration",
                   "mutatingwebhookconfigurations", false, {}));
  const std::string flowcontrol = "flowcontrol.apiserver.k8s.io";
  r.push_back(make(flowcontrol, "v1", "FlowSchema", "flowschemas", false, {}, {"status"}));
  r.push_back(make(flowcontrol, "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations",
                   false, {}, {"status"}));
  r.push_back(make("apiregistration.k8s.io", "v1", "APIService", "apiservices", false, {},
                   {"status"}));
  // Reviews: answered from the request's identity, never stored (authorization comes later).
  for (auto [group, kind, plural, namespaced] :
       {std::tuple{"authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
                   false},
        std::tuple{"authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
                   false},
        std::tuple{"authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", false},
        std::tuple{"authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews",
                   true},
        std::tuple{"authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", false}}) {
    ResourceType rt = make(group, "v1", kind, plural, namespaced, {});
    rt.verbs = {"create"};
    rt.virtualResource = true;
    r.push_back(std::move(rt));
  }
  // The v1 HPA is stored under the v2 entry's key space.
  for (auto& rt : r) {
    if (rt.group == "autoscaling")
      rt.storagePrefix = "/registry/horizontalpodautoscalers.autoscaling/";
    if (rt.group == "events.k8s.io") {
      rt.storagePrefix = "/registry/events/";
      rt.storageGroup = "";
      rt.storageVersion = "v1";
    }
  }
  return r;
}

std::vector<GroupVersions> buildGroups(const ResourceSnapshot& all) {
  std::vector<GroupVersions> groups;
  for (const auto& rt : all) {
    if (rt.group.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const GroupVersions& g) { return g.group == rt.group; });
    if (it == groups.end()) {
      groups.push_back({rt.group, {rt.version}});
    } else if (std::find(it->versions.begin(), it->versions.end(), rt.version) ==
               it->versions.end()) {
      it->versions.push_back(rt.version);
    }
  }
  return groups;
}

// The live catalogue: built-ins first, then runtime entries by owner. Readers copy the
// shared_ptr under the mutex and iterate without it; writers publish a new vector. Replaced
// entries are kept in `retired` so pointers handed out earlier never dangle (a CRD change is rare
// and small; this is the price of lock-free readers holding plain pointers).
struct Catalogue {
  std::mutex mu;
  std::shared_ptr<const ResourceSnapshot::Items> items;
  std::vector<std::pair<std::string, std::shared_ptr<const ResourceType>>> runtime;  // by owner
  std::vector<std::shared_ptr<const ResourceType>> retired;
  size_t builtins = 0;
  std::atomic<uint64_t> generation{1};

  Catalogue() {
    auto all = std::make_shared<ResourceSnapshot::Items>();
    for (auto& rt : buildCatalogue()) all->push_back(std::make_shared<const ResourceType>(rt));
    builtins = all->size();
    items = std::move(all);
  }
  std::shared_ptr<const ResourceSnapshot::Items> snapshot() {
    std::lock_guard lock(mu);
    return items;
  }
  // With mu held.
  void publish() {
    auto all = std::make_shared<ResourceSnapshot::Items>(items->begin(), items->begin() + builtins);
    for (const auto& [owner, rt] : runtime) all->push_back(rt);
    items = std::move(all);
    generation.fetch_add(1);
  }
};

Catalogue& catalogue() {
  static Catalogue c;
  return c;
}

}  // namespace

bool ResourceType::hasSubresource(std::string_view name) const {
  return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

ResourceSnapshot allResources() { return ResourceSnapshot(catalogue().snapshot()); }

std::vector<GroupVersions> apiGroups() { return buildGroups(allResources()); }

void registerResources(const std::string& owner, std::vector<ResourceType> types) {
  Catalogue& c = catalogue();
  std::lock_guard lock(c.mu);
  auto& rt = c.runtime;
  for (auto it = rt.begin(); it != rt.end();) {
    if (it->first == owner) {
      c.retired.push_back(std::move(it->second));
      it = rt.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& t : types) {
    bool taken = false;
    for (size_t i = 0; i < c.builtins; ++i) {
      const auto& b = *(*c.items)[i];
      taken = taken || (b.group == t.group && b.version == t.version && b.plural == t.plural);
    }
    if (!taken) rt.emplace_back(owner, std::make_shared<const ResourceType>(std::move(t)));
  }
  c.publish();
}

void unregisterResources(const std::string& owner) { registerResources(owner, {}); }

uint64_t catalogueGeneration() { return catalogue().generation.load(); }

namespace {

// The catalogue as this thread last saw it. Lookups run several times per request on every
// connection's thread: re-reading the shared snapshot only when the catalogue's generation moved
// keeps them off the catalogue mutex and the snapshot's shared reference count (both contended
// cache lines). A thread may see a change one lookup late, as with any snapshot.
const ResourceSnapshot::Items& threadItems() {
  thread_local uint64_t seen = 0;
  thread_local std::shared_ptr<const ResourceSnapshot::Items> items;
  Catalogue& c = catalogue();
  uint64_t now = c.generation.load(std::memory_order_acquire);
  if (now != seen || !items) {
    items = c.snapshot();
    seen = now;
  }
  return *items;
}

}  // namespace

const ResourceType* findResource(std::string_view group, std::string_view version,
                                 std::string_view plural) {
  for (const auto& rt : threadItems()) {
    if (rt->plural == plural && rt->version == version && rt->group == group) return rt.get();
  }
  return nullptr;
}

const ResourceType* findResourceByKind(std::string_view group, std::string_view version,
                                       std::string_view kind) {
  for (const auto& rt : threadItems()) {
    if (rt->kind == kind && rt->version == version && rt->group == group) return rt.get();
  }
  return nullptr;
}

std::pair<std::string, std::string> splitApiVersion(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  if (slash == std::string_view::npos) return {"", std::string(apiVersion)};
  return {std::string(apiVersion.substr(0, slash)), std::string(apiVersion.substr(slash + 1))};
}

const ResourceType* findByApiVersionKind(std::string_view apiVersion, std::string_view kind) {
  auto [group, version] = splitApiVersion(apiVersion);
  return findResourceByKind(group, version, kind);
}

const ResourceType* storageResource(const ResourceType& rt) {
  if (const ResourceType* s = findResource(rt.storageGroup, rt.storageVersion, rt.plural)) return s;
  // A request that resolved a runtime resource just before its CRD went away finishes with the
  // retired storage entry rather than finding none.
  Catalogue& c = catalogue();
  std::lock_guard lock(c.mu);
  for (auto it = c.retired.rbegin(); it != c.retired.rend(); ++it) {
    const ResourceType& r = **it;
    if (r.storagePrefix == rt.storagePrefix && r.isStorageVersion()) return &r;
  }
  return rt.isStorageVersion() ? &rt : nullptr;
}

}  // namespace berth::core
