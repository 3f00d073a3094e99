#pragma once
// One HTTP/2 GET for the kubelet's httpGet probes and hooks (probe_http.h), used when the TLS
// handshake's ALPN selected "h2", as Go's transport (which upstream's prober uses) does: the
// client preface and SETTINGS (server push off), one request on stream 1 with :method GET,
// :scheme, :authority, :path and the handler's headers in lower case, then the response's
// :status, Location and up to `maxBody` bytes of its body. nghttp2 does the framing, HPACK and
// flow control; the connection (and its deadline) belongs to the caller, through `Http2Io`.
// No connection reuse: each request has its own connection, as the prober's DisableKeepAlives.
//
// Thread-safety: http2Get is reentrant; it blocks in the caller's I/O functions.
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace berth::kubelet {

struct Http2Io {
  // Sends all of `data`; an error text (Go's wording where it has one) or "".
  std::function<std::string(const std::string& data)> write;
  // Appends what arrives next to `out` (waiting for it under the caller's deadline); *eof at
  // the end of the stream; an error text or "".
  std::function<std::string(std::string& out, bool* eof)> read;
};

struct Http2Response {
  int status = 0;
  std::string location, body;
};

struct Http2Request {
  std::string scheme = "https", authority, path;
  std::vector<std::pair<std::string, std::string>> headers;  // any case; sent lower-cased
  size_t maxBody = 0;  // the body is read up to this many bytes, then the stream is reset
};

// Runs the exchange; an error text (empty on a response) as Go's http2 transport words it.
std::string http2Get(const Http2Io& io, const Http2Request& request, Http2Response& response);

}  // namespace berth::kubelet
