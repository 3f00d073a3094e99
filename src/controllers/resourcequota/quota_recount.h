#pragma once
// The resource quota controller's arithmetic, kept free of I/O so it is unit-tested: which
// resources a quota's hard names are counted from, and status.used recounted from the objects
// that exist (upstream's CalculateUsage: every hard name gets an entry, zero when nothing uses
// it, so the admission plugin sees the usage as known).
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "core/quota_usage.h"

namespace berth::controllers::resourcequota {

struct GroupResource {
  std::string group, resource;  // "" for core; plural
  bool operator<(const GroupResource& o) const {
    return group != o.group ? group < o.group : resource < o.resource;
  }
  bool operator==(const GroupResource& o) const = default;
};

// The resources whose objects the names in `hard` are charged on: "requests.cpu" → pods,
// "count/deployments.apps" → apps/deployments, "requests.storage" → persistentvolumeclaims.
std::vector<GroupResource> trackedResources(const std::vector<std::string>& hard);

// status.used of `quota` (whose status.hard is set to its spec.hard) given the objects of each
// tracked resource in its namespace.
core::quota::ResourceList recount(
    const boost::json::object& quota,
    const std::vector<std::pair<GroupResource, std::vector<boost::json::object>>>& objects);

}  // namespace berth::controllers::resourcequota
