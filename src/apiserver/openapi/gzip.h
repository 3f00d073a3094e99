#pragma once
// gzip (RFC 1952) for the OpenAPI documents: every kubectl sends "Accept-Encoding: gzip" (Go's
// transport adds it), and upstream compresses these documents; the v2 protobuf shrinks about
// 17×. Documents are compressed once, when they are built.
//
// Thread-safety: pure functions.
#include <string>
#include <string_view>

namespace berth::apiserver::openapi {

// `data` gzip-compressed at zlib's default level; empty if zlib fails (out of memory).
std::string gzip(std::string_view data);

}  // namespace berth::apiserver::openapi
