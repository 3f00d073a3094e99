#pragma once
// The pods/log, pods/exec, pods/attach and pods/portforward subresources, and nodes/proxy (the
// kubelet API's paths: /stats/summary, /metrics/resource, ...): after checking the pod
// (it exists, is bound to a node, the container is one of its own and has started), the request
// goes to that node's kubelet (Node status.addresses InternalIP, daemonEndpoints.kubeletEndpoint
// .Port) over TLS with the API server's kubelet-client certificate. Logs are relayed as a
// stream; an upgraded exec/attach/port-forward connection is relayed byte for byte, since the
// kubelet speaks every streaming protocol itself (WebSocket and SPDY).
//
// Thread-safety: serve() runs concurrently on connection threads; the proxy keeps no state
// beyond its configuration.
#include <string>

#include "apiserver/http/server.h"
#include "apiserver/registry.h"
#include "apiserver/request_parsing.h"

namespace berth::apiserver {

// Where a node's kubelet listens (Node status).
struct KubeletAddress {
  std::string host;
  int port = 10250;
};

class PodStreamProxy {
 public:
  PodStreamProxy(Registry& registry, std::string tlsDir);
  // Issues the kubelet-client certificate (CN kube-apiserver-kubelet-client, O system:masters)
  // into the TLS directory unless it is there.
  core::Status init();

  static bool handles(const RequestTarget& t);
  void serve(http::Request& req, http::ResponseWriter& w, const RequestTarget& t);

 private:
  void serveNodeProxy(http::Request& req, http::ResponseWriter& w, const RequestTarget& t);
  // Sends the request to the kubelet's `target` and relays its answer (or the upgraded stream).
  void forward(http::Request& req, http::ResponseWriter& w, const std::string& nodeName,
               const KubeletAddress& address, const std::string& target);

  Registry& registry_;
  std::string tlsDir_;
  std::string certFile_, keyFile_;
};

}  // namespace berth::apiserver
