#pragma once
// The admission plugins' view of the cluster (admission::ObjectReader) served from the watch
// cache, as upstream's plugins read through informers: no store round trip per request. A get
// that misses waits for the cache to catch up with the store first, so an object created just
// before (a ServiceAccount, a PriorityClass) is found.
//
// Thread-safety: safe for concurrent use; the CacheSet must outlive it.
#include "apiserver/admission/object_reader.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

class CacheObjectReader : public admission::ObjectReader {
 public:
  explicit CacheObjectReader(CacheSet& cache) : cache_(cache) {}
  std::optional<boost::json::object> get(const core::ResourceType& rt, const std::string& ns,
                                         const std::string& name) const override;
  std::vector<boost::json::object> list(const core::ResourceType& rt,
                                        const std::string& ns) const override;

 private:
  CacheSet& cache_;
};

}  // namespace berth::apiserver
