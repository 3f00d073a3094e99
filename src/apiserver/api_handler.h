#pragma once
// The REST surface of the API server: routes Kubernetes API paths to the registry, negotiates
// request and response encodings (JSON, YAML, Kubernetes protobuf; Table for kubectl's human
// output), streams watches, and turns every failure into a metav1.Status response.
//
// Thread-safety: handle() is called concurrently from connection threads; the handler keeps no
// per-request state outside the call.
#include <atomic>
#include <string>

#include "apiserver/http/server.h"
#include "apiserver/registry.h"

namespace berth::apiserver {

// Where a resource request points.
struct RequestTarget {
  const core::ResourceType* rt = nullptr;
  std::string ns;
  std::string name;
  std::string subresource;
};

class ApiHandler {
 public:
  ApiHandler(Registry& registry, CacheSet& cache, std::string serverAddress);

  void handle(http::Request& req, http::ResponseWriter& w);
  // Ends open watches promptly (server shutdown).
  void stop() { stopping_.store(true); }

 private:
  void serveWatch(http::Request& req, http::ResponseWriter& w, const RequestTarget& t);
  void serveReview(http::Request& req, http::ResponseWriter& w, const core::ResourceType& rt);

  Registry& registry_;
  CacheSet& cache_;
  std::string serverAddress_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::apiserver
