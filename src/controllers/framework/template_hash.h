// The hash that names a workload's template: pod-template-hash labels, ReplicaSet and
// ControllerRevision names. Its own header so each controller can use it without the helper
// families it does not otherwise include.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace berth::controllers {

// Upstream's controller.ComputeHash (pod-template-hash, ControllerRevision names): FNV-32a over
// the template and the collision count (as 8 little-endian bytes, upstream's framing), printed
// in decimal and mapped through upstream's SafeEncodeString alphabet. Upstream hashes Go's spew
// dump of its struct, which cannot be reproduced outside Go; this hashes the canonical JSON
// instead, so the values differ from upstream's but are the same for equal templates whatever
// order the server wrote their keys in (it changes between a create and a later update).
std::string computeHash(const boost::json::value& tmpl, std::optional<long long> collisionCount);

}  // namespace berth::controllers
