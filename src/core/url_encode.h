#pragma once
// Percent-encoding of a URL query value (RFC 3986: everything but unreserved characters), for
// every component that builds request targets (the REST client, the image registry client).
#include <string>
#include <string_view>

namespace berth::core {

std::string urlEncode(std::string_view s);

}  // namespace berth::core
