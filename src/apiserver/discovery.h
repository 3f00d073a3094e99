#pragma once
// Discovery documents: /api, /apis, /api/v1, /apis/<group>/<version> (APIVersions,
// APIGroupList, APIResourceList) and /version, built from the resource catalogue.
//
// Thread-safety: stateless; documents are built once and cached.
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver {

const std::string& discoveryApiVersions(const std::string& serverAddress);
std::string discoveryGroupList();
// "v1" for core, or group/version; nullopt when not served.
std::optional<std::string> discoveryResourceList(std::string_view group, std::string_view version);
const std::string& versionInfo();

// Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) for /api (core) or /apis:
// one request instead of one per group-version. Served when the client's Accept asks for it.
inline constexpr std::string_view kAggregatedDiscoveryType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
std::string aggregatedDiscovery(bool core);

}  // namespace berth::apiserver
