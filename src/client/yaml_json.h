#pragma once
// YAML → JSON conversion for request bodies and manifests (server-side apply sends
// application/apply-patch+yaml; clients may send application/yaml). Scalars resolve as YAML 1.2
// core schema does for Kubernetes manifests: null/~, true/false, integers, floats; quoted
// scalars stay strings. Only the first document of a multi-document body is read.
//
// Thread-safety: stateless.
#include <boost/json/value.hpp>

#include <string_view>

#include "core/result.h"

namespace berth::client {

core::Result<boost::json::value> yamlToJson(std::string_view yaml);

}  // namespace berth::client
