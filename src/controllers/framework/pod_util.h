#pragma once
// Pod state as the workload controllers judge it (upstream pkg/api/v1/pod/util.go and
// pkg/controller's FilterActivePods): active, ready, available after minReadySeconds.
//
// Thread-safety: stateless functions.
#include <boost/json/value.hpp>

#include <optional>

#include "controllers/framework/object_util.h"

namespace berth::controllers {

// Not Succeeded/Failed and not being deleted: counts toward a controller's replicas.
bool isPodActive(const boost::json::value& pod);
// The Ready condition is True.
bool isPodReady(const boost::json::value& pod);
// lastTransitionTime of a True Ready condition.
std::optional<SystemTime> podReadyTime(const boost::json::value& pod);
// Ready for at least minReadySeconds at `now` (upstream IsPodAvailable).
bool isPodAvailable(const boost::json::value& pod, long long minReadySeconds, SystemTime now);

}  // namespace berth::controllers
