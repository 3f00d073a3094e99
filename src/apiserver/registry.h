#pragma once
// The generic REST storage behind every resource: the create/update/patch/delete pipelines of
// upstream's genericregistry.Store (strategy hooks from core/kinds), reads from the watch cache,
// writes to the store with optimistic concurrency on the object's resourceVersion, and the
// special subresources (status, scale, binding, eviction).
//
// All objects cross this interface as JSON objects in the *served* version of the ResourceType
// passed in; conversion to and from the storage version happens inside.
//
// Thread-safety: all methods may be called concurrently; concurrent writers to one object are
// serialized by the store's revision check (PATCH retries internally on conflict).
#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/service/addresses.h"
#include "apiserver/watch_cache.h"
#include "core/cluster_dns_ip.h"
#include "core/kinds/strategy.h"
#include "core/labels.h"
#include "core/resources.h"
#include "core/result.h"
#include "store/interface.h"

namespace berth::apiserver {

using core::Result;
using core::Status;

struct WriteOptions {
  bool dryRun = false;
  std::string fieldManager;          // defaults to the user agent's product name, like upstream
  std::string subresource;           // "", "status", "scale", ...
  core::kinds::Requester requester;  // who asks (a CSR records it); empty for the server itself
  std::vector<std::string>* warnings = nullptr;  // admission's "Warning:" lines, when wanted
  std::map<std::string, std::string>* auditAnnotations = nullptr;  // admission's, when audited
  // When set, a write that stores the object it returns, in a version served as stored, puts
  // that object's JSON here (the watch cache's bytes, prepared_write.h): the reply needs no
  // encoding of its own. Left empty otherwise (no-op updates, dry runs, conversions).
  std::string* storedJson = nullptr;
};

struct DeleteOptions {
  std::optional<int64_t> gracePeriodSeconds;
  std::string propagationPolicy;  // Orphan | Background | Foreground | "" (kind default)
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
  core::kinds::Requester requester;
  std::vector<std::string>* warnings = nullptr;
  std::map<std::string, std::string>* auditAnnotations = nullptr;
};

enum class PatchType { kJson, kMerge, kStrategic, kApply };

struct PatchRequest {
  PatchType type;
  boost::json::value patch;  // parsed body (apply: the parsed YAML/JSON object)
  bool force = false;        // server-side apply
};

struct ListRequest {
  std::string namespace_;  // empty = all namespaces (or cluster-scoped)
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 0;
  std::string continueToken;
  // Upstream's list semantics (api-concepts "resource versions"): "" = the most recent state
  // (consistent read), "0" = any state the cache holds (limit ignored), N with
  // resourceVersionMatch NotOlderThan = at least N, Exact (or unset with a limit) = exactly N.
  std::string resourceVersion;
  std::string resourceVersionMatch;
};

// A list or watch's label and field selectors, parsed; a field the resource cannot select on
// is 400 "field label not supported".
struct Selectors {
  core::LabelSelector labels;
  core::FieldSelector fields;
};
Result<Selectors> parseSelectors(const core::ResourceType& rt, const std::string& labelSelector,
                                 const std::string& fieldSelector);
// A resourceVersion query value: a non-negative integer, else 400.
Result<int64_t> parseResourceVersion(const std::string& rv);
// Upstream's storage.NewTooLargeResourceVersionError: 504 Timeout with the
// ResourceVersionTooLarge cause that clients check.
Status tooLargeResourceVersion(int64_t wanted, int64_t current);

// Upstream's ValidateListOptions / validateWatchOptions: 422 Invalid ListOptions.meta.k8s.io on
// forbidden combinations of resourceVersion, resourceVersionMatch, continue, sendInitialEvents.
Status validateListOptions(const ListRequest& req, bool watch,
                           const std::optional<bool>& sendInitialEvents);

struct ListResponse {
  std::vector<ObjectPtr> items;
  int64_t revision = 0;
  std::string continueToken;
  std::optional<int64_t> remaining;
};

class Registry {
 public:
  Registry(store::Interface& store, CacheSet& cache, service::Ranges serviceRanges = {});
  ~Registry();
  // Admission for every create, update and delete from now on (set before serving; null =
  // none). Writes the server makes itself pass it too, as upstream's loopback client does.
  void setAdmission(const admission::Chain* chain) { admission_ = chain; }

  Result<ObjectPtr> get(const core::ResourceType& rt, const std::string& ns,
                        const std::string& name);
  Result<ListResponse> list(const core::ResourceType& rt, const ListRequest& req);

  Result<boost::json::object> create(const core::ResourceType& rt, const std::string& ns,
                                     boost::json::object obj, const WriteOptions& opts);
  Result<boost::json::object> update(const core::ResourceType& rt, const std::string& ns,
                                     const std::string& name, boost::json::object obj,
                                     const WriteOptions& opts);
  // A server-side apply to a missing object creates it; *created (when given) says so (201).
  Result<boost::json::object> patch(const core::ResourceType& rt, const std::string& ns,
                                    const std::string& name, const PatchRequest& req,
                                    const WriteOptions& opts, bool* created = nullptr);
  // Returns the object as it was deleted, or with deletionTimestamp set when deletion is
  // graceful or waits on finalizers.
  Result<boost::json::object> remove(const core::ResourceType& rt, const std::string& ns,
                                     const std::string& name, const DeleteOptions& opts);
  // Deletes every object matching the list request; returns how many.
  Result<int64_t> removeCollection(const core::ResourceType& rt, const ListRequest& req,
                                   const DeleteOptions& opts);

  // Subresources with their own body kinds.
  Result<boost::json::object> getScale(const core::ResourceType& rt, const std::string& ns,
                                       const std::string& name);
  Result<boost::json::object> updateScale(const core::ResourceType& rt, const std::string& ns,
                                          const std::string& name, const boost::json::object& scale,
                                          const WriteOptions& opts);
  Result<boost::json::object> patchScale(const core::ResourceType& rt, const std::string& ns,
                                         const std::string& name, const PatchRequest& req,
                                         const WriteOptions& opts);
  Result<boost::json::object> bind(const std::string& ns, const std::string& name,
                                   const boost::json::object& binding, const WriteOptions& opts);
  Result<boost::json::object> evict(const std::string& ns, const std::string& name,
                                    const boost::json::object& eviction);

  // An object from the cache in the served version of `rt`. A custom resource's conversion
  // webhook may fail (500, upstream's message); the infallible toServed* below are for kinds
  // converted in-process.
  Result<boost::json::object> served(const core::ResourceType& rt, const CachedObject& obj) const;
  Result<std::string> servedJson(const core::ResourceType& rt, const CachedObject& obj) const;
  // A list's items in the served version, converted together when conversion calls out (one
  // ConversionReview per list, as upstream).
  Result<std::vector<boost::json::object>> servedList(const core::ResourceType& rt,
                                                      const std::vector<ObjectPtr>& items) const;
  // Each item's served JSON, in order (the cached JSON itself for kinds served as stored).
  Status forEachServedJson(const core::ResourceType& rt, const std::vector<ObjectPtr>& items,
                           const std::function<void(const std::string&)>& fn) const;
  boost::json::object toServed(const core::ResourceType& rt, const CachedObject& obj) const;
  std::string toServedJson(const core::ResourceType& rt, const CachedObject& obj) const;
  void appendServedJson(const core::ResourceType& rt, const CachedObject& obj,
                        std::string& out) const;

  // Creates the built-in namespaces and the `kubernetes` Service/Endpoints if missing. (Deleting
  // a namespace's content is the namespace controller's job, as upstream.)
  Status bootstrap(const std::string& advertiseAddress, int port,
                   const std::string& clusterDns = std::string(core::kDefaultClusterDns));
  // The `kubernetes` Service and Endpoints (kubernetes_service.cpp): created when missing, once
  // by bootstrap and then every few seconds by the repair loop, as upstream's API server does.
  Status ensureKubernetesService(const std::string& advertiseAddress, int port);
  void startKubernetesServiceRepair(const std::string& advertiseAddress, int port);
  // Re-runs the ClusterIP/NodePort repair every `interval` (upstream: 3 min), treating only
  // reservations older than `leakGrace` without a Service as leaks.
  void startServiceAddressRepair(std::chrono::seconds interval, std::chrono::seconds leakGrace);
  // The selector-less `kube-dns` Service at `clusterIp` (kube_dns_service.cpp), created once.
  Status ensureKubeDnsService(const std::string& clusterIp);
  void stop();

 private:
  struct Current {
    boost::json::object obj;  // storage version
    int64_t modRevision = 0;
    bool stale = false;  // stored under an old encryption key: rewrite even when unchanged
    // obj in the request's version, when a write already converted it (a patch does, to apply
    // itself): validation then needs no second conversion of the old object.
    std::optional<boost::json::object> served;
  };
  Result<Current> readCurrent(const core::ResourceType& srt, const std::string& key,
                              const std::string& name);
  Result<boost::json::object> finishUpdate(const core::ResourceType& rt,
                                           const core::ResourceType& srt, const std::string& ns,
                                           const std::string& name, boost::json::object next,
                                           const Current& cur, const WriteOptions& opts);
  Result<boost::json::object> persistCreate(const core::ResourceType& srt, boost::json::object obj,
                                            bool dryRun, std::string* storedJson = nullptr);
  Result<boost::json::object> persistUpdate(const core::ResourceType& srt, boost::json::object obj,
                                            int64_t modRevision, bool dryRun,
                                            std::string* storedJson = nullptr);
  // Stores `obj` (storage version, without resourceVersion) under `key` through `write` (the
  // store's create or update, given the bytes), encoded once for the store, the watch cache and
  // (*storedJson, when given) the reply; see prepared_write.h.
  Result<int64_t> storeWrite(const core::ResourceType& srt, const std::string& key,
                             const boost::json::object& obj,
                             const std::function<Result<int64_t>(std::string_view)>& write,
                             std::string* storedJson);
  Result<boost::json::object> deleteNow(const core::ResourceType& srt, const std::string& key,
                                        const std::string& name, int64_t modRevision);
  Status checkNamespace(const core::ResourceType& rt, const std::string& ns);
  // Waits until the watch cache has seen the store's current revision (a consistent read);
  // 504 Timeout when it does not catch up in time, rather than serving stale data.
  Status waitFresh();
  Result<ListResponse> listFromStore(const core::ResourceType& rt, const std::string& prefix,
                                     const std::string& startAfter, int64_t revision, int64_t limit,
                                     const core::LabelSelector& labels,
                                     const core::FieldSelector& fields, bool selectors);
  // Spends one allowed disruption of the budget matching `pod` (registry_eviction.cpp).
  Status spendDisruption(const std::string& ns, const std::string& podName,
                         const boost::json::object& pod, bool dryRun);
  Result<boost::json::object> applyPatchTo(const core::ResourceType& rt,
                                           boost::json::object current, const PatchRequest& req,
                                           const WriteOptions& opts);

  // Runs the chain's mutating then validating phase on a create/update (object set) or its
  // validating phase on a delete (object null).
  Status admitWrite(admission::Operation op, const core::ResourceType& srt, const std::string& ns,
                    const std::string& name, boost::json::object* obj,
                    const boost::json::object* old, const std::string& subresource,
                    const core::kinds::Requester& user, bool dryRun,
                    std::vector<std::string>* warnings,
                    std::map<std::string, std::string>* auditAnnotations, bool mutate);

  store::Interface& store_;
  CacheSet& cache_;
  const admission::Chain* admission_ = nullptr;
  service::ServiceAddresses addresses_;
  std::mutex bgMu_;
  std::condition_variable bgCv_;
  std::vector<std::thread> background_;
  bool stopping_ = false;
};

std::string storageKey(const core::ResourceType& rt, const std::string& ns,
                       const std::string& name);
std::string nowRfc3339();

}  // namespace berth::apiserver
