#pragma once
// The HTTP side of the OpenAPI endpoints, as upstream's kube-openapi handlers answer them,
// kept free of the HTTP layer so it can be tested as a function:
//  - /openapi/v2: Accept negotiated in the client's order of preference (q values, then the
//    server's order application/json, the deprecated
//    application/com.github.proto-openapi.spec.v2@v1.0+protobuf that kubectl 1.20–1.28 send,
//    and application/com.github.proto-openapi.spec.v2.v1.0+protobuf; a missing Accept is */*).
//    Both protobuf spellings are answered with the latter as Content-Type. Nothing acceptable:
//    406.
//  - /openapi/v3 (the index) and /openapi/v3/<group-version>: JSON (the only form clients
//    ask for; the protobuf form is not served, so asking only for it gets 406). With ?hash=
//    equal to the document's hash the answer may be cached for good (Cache-Control: public,
//    immutable); a stale hash is redirected (301) to the current URL.
//  - Every answer carries an ETag (the quoted content hash; the same for both v2 forms, with
//    "Vary: Accept"), and a matching If-None-Match ("*", a list, weak tags too) answers 304
//    without a body.
//  - Documents go out gzip-compressed (compressed once, cached) when Accept-Encoding admits
//    gzip, as every Go client's does; the ETag stays that of the document, as upstream's.
//
// Thread-safety: safe to call concurrently; replies point into documents built once.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::apiserver::openapi {

struct ServeRequest {
  std::string_view path;                 // "/openapi/v2", "/openapi/v3", "/openapi/v3/apis/apps/v1"
  std::string_view accept;               // Accept header ("" = */*)
  std::string_view ifNoneMatch;          // If-None-Match header
  std::string_view hash;                 // the ?hash= query parameter
  std::string_view acceptEncoding = {};  // Accept-Encoding header
};

struct Reply {
  int status = 200;
  std::string contentType;  // empty for 304 and 301
  std::string_view body;    // a cached document or a constant; valid while `owner` is held
  std::shared_ptr<const void> owner;
  std::vector<std::pair<std::string, std::string>> headers;
};

// nullopt when the path names no OpenAPI document (the caller answers 404).
std::optional<Reply> serve(const ServeRequest& request);

}  // namespace berth::apiserver::openapi
