#pragma once
// The v1 Endpoints subsets of a Service (upstream pkg/controller/endpoint's syncService and
// RepackSubsets): every selected pod with an IP as an address (notReadyAddresses when not
// Ready, unless publishNotReadyAddresses), grouped into subsets by identical resolved ports,
// addresses sorted by IP; terminating pods are left out unless publishNotReadyAddresses. Over
// 1000 addresses the list is truncated (ready ones kept first) and reported as such.
//
// Thread-safety: a pure function.
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <vector>

#include "client/informer.h"

namespace berth::controllers::endpoints {

inline constexpr size_t kMaxCapacity = 1000;
inline constexpr const char* kOverCapacityAnnotation = "endpoints.kubernetes.io/over-capacity";

struct Subsets {
  boost::json::array subsets;
  bool truncated = false;
};

Subsets computeSubsets(const boost::json::value& service,
                       const std::vector<client::ObjectPtr>& pods,
                       size_t maxCapacity = kMaxCapacity);

}  // namespace berth::controllers::endpoints
