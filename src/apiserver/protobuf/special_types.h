#pragma once
// Text forms of the apimachinery types whose JSON is not an object: RFC 3339 times (metav1.Time,
// MicroTime), Go duration strings (metav1.Duration) and base64 ([]byte). Internal to the codec;
// the forms follow Go's time.Time.Format(RFC3339), time.Duration.String and
// encoding/base64.StdEncoding, which is what kubectl's JSON carries.
//
// Thread-safety: stateless free functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base64.h"

namespace berth::apiserver::protobuf::internal {

struct UnixTime {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;  // [0, 1e9)
};

// "2024-01-02T03:04:05Z", or with `micro` six fractional digits ("...05.123456Z"). UTC always.
// nullopt when the year falls outside 0000..9999 (Go refuses to marshal those).
std::optional<std::string> formatRfc3339(UnixTime t, bool micro);
// Parses RFC 3339 with optional fraction and a Z or ±hh:mm offset.
std::optional<UnixTime> parseRfc3339(std::string_view text);

// Go's time.Duration.String: "0s", "1.5µs", "1h2m3.5s".
std::string formatGoDuration(std::int64_t nanoseconds);
// Go's time.ParseDuration. nullopt on syntax error or overflow.
std::optional<std::int64_t> parseGoDuration(std::string_view text);

// Standard alphabet with padding; CR and LF are ignored (as Go's decoder does).
using core::base64Decode;
using core::base64Encode;

}  // namespace berth::apiserver::protobuf::internal
