#pragma once
// The admission plugins' view of the cluster (admission::ObjectReader) served from the watch
// cache, as upstream's plugins read through informers: no store round trip per request. A get
// that misses waits for the cache to catch up with the store first, so an object created just
// before (a ServiceAccount, a PriorityClass) is found. Parsed objects are memoized per
// resourceVersion.
//
// Thread-safety: safe for concurrent use; the CacheSet must outlive it.
#include <mutex>
#include <string>
#include <unordered_map>

#include "apiserver/admission/object_reader.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

class CacheObjectReader : public admission::ObjectReader {
 public:
  explicit CacheObjectReader(CacheSet& cache) : cache_(cache) {}
  admission::ObjectRef get(const core::ResourceType& rt, const std::string& ns,
                           const std::string& name) const override;
  std::vector<admission::ObjectRef> list(const core::ResourceType& rt,
                                         const std::string& ns) const override;

 private:
  // The parsed form of a cached object, parsed once per resourceVersion: the same Namespace,
  // ServiceAccount and PriorityClasses are read by every pod create.
  admission::ObjectRef parsed(const ObjectPtr& obj) const;

  CacheSet& cache_;
  mutable std::mutex mu_;
  // key → (resourceVersion, parsed object); cleared when it grows past a bound. Guarded by mu_.
  mutable std::unordered_map<std::string, std::pair<int64_t, admission::ObjectRef>> parsed_;
};

}  // namespace berth::apiserver
