#pragma once
// What an object costs against a ResourceQuota, shared by the ResourceQuota admission plugin
// (which charges a write before it is persisted) and the resource quota controller (which
// recounts status.used from the objects that exist). Mirrors upstream's pkg/quota/v1/evaluator:
//   - every resource: `count/<resource>[.<group>]` = 1, plus the legacy names `pods`,
//     `services`, `configmaps`, `secrets`, `persistentvolumeclaims`, `replicationcontrollers`,
//     `resourcequotas` for those core resources;
//   - pods (not Succeeded/Failed): cpu/memory/ephemeral-storage and requests.* / limits.* of
//     the pod (max(sum of containers, largest init container) + overhead, sidecars counted as
//     upstream's PodRequests), hugepages and extended resources as requests.*;
//   - services: services.nodeports, services.loadbalancers;
//   - persistentvolumeclaims: requests.storage and the per-StorageClass names.
// Scopes (spec.scopes and spec.scopeSelector) apply to pods only; a quota with any scope never
// matches other resources, as upstream's object-count evaluators do.
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/quantity.h"

namespace berth::core::quota {

using ResourceList = std::map<std::string, Quantity, std::less<>>;

// A v1.ResourceList ({"cpu":"1","pods":"2"}); entries that are not quantities are skipped
// (validation rejected them before they were stored).
ResourceList parseResourceList(const boost::json::object* list);
boost::json::object toJson(const ResourceList& list);
// "configmaps=1,requests.cpu=500m": sorted by name, as upstream's prettyPrint.
std::string prettyPrint(const ResourceList& list);
// The entries of `list` whose names are in `names`.
ResourceList mask(const ResourceList& list, const std::vector<std::string>& names);
std::vector<std::string> names(const ResourceList& list);

// What an object of `group`/`resource` (plural) uses. Empty for a pod in a terminal phase.
ResourceList usage(std::string_view group, std::string_view resource,
                   const boost::json::object& obj);
// Whether quota is charged on UPDATE of this resource too (services and PVCs can grow; other
// objects are counted once, at creation).
bool chargesOnUpdate(std::string_view group, std::string_view resource);
// The names in `hard` that objects of this resource are charged under.
std::vector<std::string> matchingResources(std::string_view group, std::string_view resource,
                                           const std::vector<std::string>& hard);
// Whether `quota` (a ResourceQuota; its status.hard names what it tracks) applies to `obj`:
// it tracks a resource of this kind and every scope selector matches.
bool quotaMatches(const boost::json::object& quota, std::string_view group,
                  std::string_view resource, const boost::json::object& obj);
// Upstream's pod constraint: a quota on cpu or memory (requests or limits) requires every
// container to state that value. Returns "" or "must specify limits.cpu for: c; ...".
std::string missingConstraints(std::string_view group, std::string_view resource,
                               const boost::json::object& obj,
                               const std::vector<std::string>& required);

}  // namespace berth::core::quota
