#pragma once
// Request accounting for /metrics under upstream's names and labels
// (k8s.io/apiserver/pkg/endpoints/metrics): apiserver_request_total,
// apiserver_request_duration_seconds, apiserver_current_inflight_requests,
// apiserver_longrunning_requests and apiserver_registered_watchers. One wrapper around the whole
// request path records every request once, from what its path and method say (RequestInfo) and
// the status code the handler answered.
//
// Label cardinality stays bounded: a resource request is recorded under its group, version and
// resource only when the resource (and subresource) is served, or when an authenticated caller
// got an answer other than 404 (a resource served from elsewhere, such as a custom resource);
// other paths only when they are one of the server's
// fixed paths (health, metrics, version, discovery, OpenAPI). Anything else a client makes up is
// not recorded, as upstream records only what its router knows.
//
// Thread-safety: instrument() is called concurrently from connection threads.
#include <string>

#include "apiserver/http/server.h"
#include "core/resources.h"
#include "metrics/metrics.h"

namespace berth::apiserver {

// What a request is about (upstream's RequestInfo, with the verb as metrics report it).
struct RequestInfo {
  bool isResourceRequest = false;
  std::string path;  // non-resource requests
  std::string verb;  // upstream's RequestInfo verb: get, list, watch, create, update, ...
  std::string group, version, resource, subresource, namespace_, name;
  std::string scope;         // "resource", "namespace", "cluster", or "" (non-resource)
  std::string reportedVerb;  // GET LIST WATCH POST PUT PATCH APPLY DELETE CONNECT ... or other
  std::string dryRun;        // "", "All", or "invalid"
  bool longRunning = false;  // watch, proxy, and the exec/attach/log/portforward subresources
  bool mutating = false;
  const core::ResourceType* type = nullptr;  // null when not a served resource (or subresource)
};

RequestInfo requestInfoFor(const http::Request& request);

class RequestMetrics {
 public:
  explicit RequestMetrics(metrics::Registry& registry);

  // Runs next(request, writer) and records the request.
  void instrument(http::Request& request, http::ResponseWriter& writer, const http::Handler& next);

 private:
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& durations_;
  metrics::GaugeFamily& inflight_;
  metrics::GaugeFamily& longRunning_;
  metrics::GaugeFamily& watchers_;
};

}  // namespace berth::apiserver
