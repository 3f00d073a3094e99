#pragma once
// Internal to the patch engines: how a list field of a built-in kind merges, shared by strategic
// merge patch and server-side apply so both agree. Mirrors the patchStrategy/patchMergeKey and
// listType/listMapKeys markers of k8s.io/api (simplified to one merge key per list).
//
// Thread-safety: stateless.
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/resources.h"

namespace berth::apiserver::patch::internal {

struct ListType {
  enum Kind { kAtomic, kMap, kSet };
  Kind kind = kAtomic;
  std::string key;  // merge key for kMap
};

// `path` is the chain of field names from the object root to the list (list items add nothing),
// e.g. {"spec","template","spec","containers"}.
ListType listTypeOf(const core::ResourceType& rt, const std::vector<std::string>& path);

// JSON equality where numbers compare by value (1 == 1.0), as Go's decoded interface{} does.
bool jsonEqual(const boost::json::value& a, const boost::json::value& b);

}  // namespace berth::apiserver::patch::internal
