#pragma once
// ObjectReader: what admission plugins may read of the cluster (LimitRanges, PriorityClasses,
// ServiceAccounts, Namespaces, Pods), as upstream's plugins read through informers' listers.
// Objects come back parsed, in their storage version (for built-in kinds the served v1 shape).
//
// Thread-safety: implementations are called concurrently from request threads.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/resources.h"

namespace berth::apiserver::admission {

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // One object; nullopt when it does not exist. A miss waits for the reader to catch up with
  // the store (an object created just before the request is seen), as upstream's plugins fall
  // back to a live lookup.
  virtual std::optional<boost::json::object> get(const core::ResourceType& rt,
                                                 const std::string& ns,
                                                 const std::string& name) const = 0;
  // Every object of `rt` in `ns` ("" = all namespaces, or cluster-scoped).
  virtual std::vector<boost::json::object> list(const core::ResourceType& rt,
                                                const std::string& ns) const = 0;
};

}  // namespace berth::apiserver::admission
