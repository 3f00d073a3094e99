#pragma once
// Parsing of an HTTP request target ("/api/v1/pods?watch=1&labelSelector=a%3Db") into a decoded
// path and query, the way Go's net/url does for the API server: '%XX' escapes in both, '+' as a
// space in the query only. Pure functions; no I/O.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver::http::internal {

// Decodes %XX escapes (and '+' as space when `plusIsSpace`). nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view in, bool plusIsSpace);

struct ParsedTarget {
  std::string path;
  std::multimap<std::string, std::string> query;
};

// nullopt when the target is not origin-form ("/..."), or an escape is malformed.
std::optional<ParsedTarget> parseTarget(std::string_view target);

}  // namespace berth::apiserver::http::internal
