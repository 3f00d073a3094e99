#pragma once
// The pods/log, pods/exec, pods/attach and pods/portforward subresources: after checking the pod
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

class PodStreamProxy {
 public:
  PodStreamProxy(Registry& registry, std::string tlsDir);
  // Issues the kubelet-client certificate (CN kube-apiserver-kubelet-client, O system:masters)
  // into the TLS directory unless it is there.
  core::Status init();

  static bool handles(const RequestTarget& t);
  void serve(http::Request& req, http::ResponseWriter& w, const RequestTarget& t);

 private:
  Registry& registry_;
  std::string tlsDir_;
  std::string certFile_, keyFile_;
};

}  // namespace berth::apiserver
