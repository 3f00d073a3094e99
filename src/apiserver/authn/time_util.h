#pragma once
// RFC 3339 times as metav1.Time writes them ("2024-03-01T12:00:00Z"), for token expiry and the
// timestamps authentication reads from objects (deletionTimestamp, a bootstrap token's
// expiration).
//
// Thread-safety: stateless.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver::authn {

std::string formatRfc3339(std::chrono::system_clock::time_point t);
// Accepts "Z" or a numeric offset and optional fractional seconds; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);
int64_t unixSeconds(std::chrono::system_clock::time_point t);

}  // namespace berth::apiserver::authn
