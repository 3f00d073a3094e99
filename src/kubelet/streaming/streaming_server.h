#pragma once
// The kubelet's streaming API on its HTTPS port (upstream: 10250): container logs, exec,
// attach and port-forward for the pods on this node, found through a ContainerLocator.
//
//   GET  /containerLogs/{namespace}/{pod}/{container}?follow&tailLines&sinceSeconds&sinceTime
//        &timestamps&previous&limitBytes
//   GET|POST /exec/{namespace}/{pod}/{container}?command=..&stdin&stdout&stderr&tty
//   GET|POST /attach/{namespace}/{pod}/{container}?stdin&stdout&stderr&tty
//   GET|POST /portForward/{namespace}/{pod}[?ports=..]
// (the upstream forms with the pod UID before the container are accepted too), and the
// read-only endpoints the owner adds (`endpoints`: the agent's /stats/summary and
// /metrics/resource), each a GET answered with its producer's body.
//
// Only the API server may call it: a client certificate signed by `clientCaFile` whose
// common name is one of `allowedUsers` (401 without one, 403 for any other user).
// Exec/attach/port-forward speak every protocol clients in use do (stdio_protocol.h,
// port_forward.h): the API server proxies the upgraded connection byte for byte.
//
// Thread-safety: start()/stop() from the owner's thread; requests are served on the HTTP
// server's threads, one per connection, each calling the locator concurrently.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "kubelet/streaming/container_locator.h"

namespace berth::kubelet::streaming {

struct StreamingServerConfig {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 10250;          // 0 = any free port (tests)
  std::string certFile, keyFile;  // serving certificate
  std::string clientCaFile;       // the cluster CA that signs the API server's client cert
  std::vector<std::string> allowedUsers = {"kube-apiserver-kubelet-client"};
  std::string runcBinary = "runc";
  std::string scratchDir = "/run/berth/streaming";  // console sockets, pid files
  struct Endpoint {
    std::string contentType;
    std::function<core::Result<std::string>()> body;  // called on the request's thread
  };
  std::map<std::string, Endpoint> endpoints;  // by exact path
};

class StreamingServer {
 public:
  StreamingServer(StreamingServerConfig config, ContainerLocator& locator);
  ~StreamingServer();
  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;

  core::Status start();
  void stop();
  uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::kubelet::streaming
