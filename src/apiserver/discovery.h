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
const std::string& discoveryGroupList();
// "v1" for core, or group/version; nullopt when not served.
std::optional<std::string> discoveryResourceList(std::string_view group, std::string_view version);
const std::string& versionInfo();

}  // namespace berth::apiserver
