#pragma once
// The EndpointSlice reconciler: from a Service, its pods and the slices the controller already
// manages for it, the slices to create, update and delete (upstream
// pkg/controller/endpointslice's reconciler, without its topology hints).
//
// One set of slices per address type of the Service's spec.ipFamilies (IPv4 when it has none),
// each holding the pods' IPs of that family. Endpoints are grouped by their resolved ports (a named
// targetPort may map to different numbers on different pods), at most `maxEndpointsPerSlice` per
// slice. An endpoint stays in the slice that holds it, so one pod coming or going rewrites one
// slice, not all of them; new endpoints fill slices with room before new slices are made. A Service
// without endpoints keeps one empty placeholder slice, as upstream.
//
// Thread-safety: a pure function.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <string>
#include <vector>

#include "client/informer.h"

namespace berth::controllers::endpointslice {

inline constexpr const char* kManagedByLabel = "endpointslice.kubernetes.io/managed-by";
inline constexpr const char* kControllerName = "endpointslice-controller.k8s.io";
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";

struct SliceInputs {
  const boost::json::value* service = nullptr;
  std::vector<client::ObjectPtr> pods;          // the Service's selected pods, any state
  std::vector<client::ObjectPtr> ownedSlices;   // slices managed by us labelled with the Service
  // Node name → its topology.kubernetes.io/zone label ("" when none).
  std::function<std::string(const std::string&)> zoneOf;
  size_t maxEndpointsPerSlice = 100;
  std::string triggerTime;  // endpoints.kubernetes.io/last-change-trigger-time for written slices
};

struct SlicePlan {
  std::vector<boost::json::object> creates;  // complete objects with generateName
  std::vector<boost::json::object> updates;  // existing slices with new content (resourceVersion kept)
  std::vector<std::string> deletes;          // names
};

SlicePlan reconcileSlices(const SliceInputs& in);

// The endpoint upstream's podToEndpoint builds for a pod (exposed for tests).
// `family` picks the pod's IP of that family (status.podIPs) for a slice of that addressType.
boost::json::object podEndpoint(const boost::json::value& pod, const boost::json::value& service,
                                const std::string& zone, const std::string& family = "IPv4");

}  // namespace berth::controllers::endpointslice
