#pragma once
// Upstream's limits and query-parameter checks on the request path, with upstream's answers:
//  - request bodies over 3 MiB: 413 "Request entity too large: limit is 3145728" (the HTTP
//    layer enforces the size; kMaxRequestBodyBytes is the figure);
//  - a stored object over etcd's default --max-request-bytes (1.5 MiB, key and value): 413
//    "etcdserver: request is too large" (upstream passes etcd's error through as a 500; Berth
//    answers the 413 the apiserver maintainers agree it should be, kubernetes#112152);
//  - JSON nested deeper than Go's decoder allows (10000): 400;
//  - integer query parameters that do not parse: 400 with strconv.ParseInt's message, as the
//    parameter codec reports them; dryRun values other than "All": 422 on the options kind.
//
// Thread-safety: stateless free functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/http/server.h"
#include "core/result.h"

namespace berth::apiserver {

inline constexpr size_t kMaxRequestBodyBytes = 3 * 1024 * 1024;
inline constexpr size_t kMaxStoredObjectBytes = 1536 * 1024;
inline constexpr int kMaxJsonDepth = 10000;
// names.SimpleNameGenerator: generateName keeps at most 63 - 5 characters before the suffix.
inline constexpr size_t kMaxGenerateNameBase = 58;

// 422 Invalid on a meta.k8s.io options kind, as upstream's Validate*Options answers.
core::Status invalidOptions(std::string_view optionsKind, core::StatusCause cause);

core::Status checkStoredSize(std::string_view key, std::string_view value);

// The query parameter `name` as Go's strconv.ParseInt(v, 10, 64) reads it; nullopt if absent.
core::Result<std::optional<int64_t>> int64QueryParam(const http::Request& req,
                                                     std::string_view name);

// dryRun may only be "All" (ValidateDryRun); `optionsKind` is "CreateOptions", "UpdateOptions",
// "PatchOptions" or "DeleteOptions".
core::Status checkDryRun(const http::Request& req, std::string_view optionsKind);

// The query parameters of the options a request decodes, checked before the verb runs: lists,
// watches and deletecollection decode ListOptions (limit, timeoutSeconds; `listOptions`),
// deletes DeleteOptions (gracePeriodSeconds), writes their options' dryRun. A get of one object
// decodes only GetOptions: nothing checked.
core::Status checkQueryParams(const http::Request& req, bool listOptions);

// generateName cut so the name with its 5-character suffix fits every kind's limit.
std::string generateNameBase(std::string_view generateName);

}  // namespace berth::apiserver
