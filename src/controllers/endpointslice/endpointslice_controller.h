#pragma once
// The EndpointSlice controller (upstream pkg/controller/endpointslice): keeps
// discovery.k8s.io/v1 EndpointSlices (IPv4) for every Service with a selector, labelled
// kubernetes.io/service-name=<svc> and endpointslice.kubernetes.io/managed-by=
// endpointslice-controller.k8s.io and owned by the Service. Slices with another managed-by
// value (e.g. written by node agents or the mirroring controller) are never touched.
//
// Pods, Services, Nodes (for zones) and the slices themselves enqueue the Service; sync reads
// the informers and applies what slice_reconciler.h plans. Our own writes can reach the slice
// informer after the next sync starts: an expected-resourceVersion tracker makes such a sync
// wait (retry) instead of planning from a stale cache, which would duplicate slices.
// Flag: max-endpoints-per-slice (default 100).
//
// Thread-safety: handlers enqueue keys; sync runs on worker threads, one key at a time; the
// tracker behind mu_.
#include <map>
#include <mutex>
#include <string>

#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers::endpointslice {

class EndpointSliceController : public Controller {
 public:
  explicit EndpointSliceController(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& key);

 private:
  // Whether the slice cache has caught up with our last writes for the Service.
  bool cacheCaughtUp(const std::string& key, const std::string& ns);
  void expect(const std::string& key, const std::string& sliceName, int64_t resourceVersion);

  client::RestClient& client_;
  const int workerCount_;
  const size_t maxEndpointsPerSlice_;
  client::SharedInformer& services_;
  client::SharedInformer& pods_;
  client::SharedInformer& slices_;
  client::SharedInformer& nodes_;
  std::mutex mu_;
  // Service key → slice name → resourceVersion we wrote (-1: we deleted it).
  std::map<std::string, std::map<std::string, int64_t>> expected_;
  QueueWorkers workers_;
};

}  // namespace berth::controllers::endpointslice
