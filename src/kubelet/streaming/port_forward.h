#pragma once
// Port-forward sessions: connections to 127.0.0.1:<port> inside a pod's network namespace,
// relayed to the client over the wire protocol it speaks:
//  - SPDY/3.1 (portforward.k8s.io; kubectl up to 1.29, 1.20): per forwarded connection the
//    client opens an error stream and a data stream with headers streamType, port, requestID;
//  - the same SPDY session inside WebSocket binary messages (subprotocol
//    "SPDY/3.1+portforward.k8s.io", kubectl 1.30+);
//  - WebSocket channels (v4.channel.k8s.io / portforward.k8s.io, the Python client): ports from
//    the query; per port i channel 2i carries data and 2i+1 errors, each starting with the port
//    as two little-endian bytes.
// Upstream: the kubelet's cri/streaming/portforward (httpstream.go, websocket.go).
//
// Thread-safety: a session runs on the handler's thread; the dial runs on a short-lived thread
// that joins the pod's network namespace (setns affects only the calling thread).
#include <cstdint>
#include <string>
#include <vector>

#include "apiserver/http/server.h"
#include "core/result.h"

namespace berth::kubelet::streaming {

// A connected TCP socket to 127.0.0.1:port in the namespace at `netnsPath` (empty: this one).
core::Result<int> dialInNetns(const std::string& netnsPath, uint16_t port);

void runSpdyPortForward(apiserver::http::RawStream& client, const std::string& netnsPath,
                        bool overWebSocket);

void runWsPortForward(apiserver::http::RawStream& client, const std::string& netnsPath,
                      const std::vector<uint16_t>& ports, bool base64);

}  // namespace berth::kubelet::streaming
