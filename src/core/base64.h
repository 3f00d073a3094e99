#pragma once
// base64 as Go's encoding/base64.StdEncoding writes and reads it: what Kubernetes JSON carries
// for []byte fields (Secret data), kubeconfig certificate data, and opaque tokens.
//
// Thread-safety: stateless free functions.
#include <optional>
#include <string>
#include <string_view>

namespace berth::core {

std::string base64Encode(std::string_view bytes);
// Strict: padding required, only the standard alphabet; CR/LF ignored. nullopt when invalid.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace berth::core
