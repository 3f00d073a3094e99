#pragma once
// The EndpointSlice mirroring controller (upstream pkg/controller/endpointslicemirroring): the
// v1 Endpoints a user writes for a Service without a selector are mirrored into EndpointSlices
// (managed-by endpointslicemirroring-controller.k8s.io, labelled with the Service, owned by it),
// so proxies and DNS, which read slices only, see them. One slice per Endpoints subset (at most
// 100 endpoints each; `addresses` ready, `notReadyAddresses` not), 1000 addresses at most.
// Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true (the API server's
// `kubernetes`), Endpoints of Services with a selector (the endpointslice controller serves
// those) and Endpoints without a Service are not mirrored.
//
// Thread-safety: handlers enqueue keys; sync runs on worker threads, one key at a time.
#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers::endpointslicemirroring {

inline constexpr const char* kMirroringControllerName = "endpointslicemirroring-controller.k8s.io";

class MirroringController : public Controller {
 public:
  explicit MirroringController(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& key);

 private:
  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& services_;
  client::SharedInformer& endpoints_;
  client::SharedInformer& slices_;
  QueueWorkers workers_;
};

// The slices (without names) mirroring `endpoints` for `service` (exposed for tests).
std::vector<boost::json::object> mirroredSlices(const boost::json::value& endpoints,
                                                const boost::json::value& service);

}  // namespace berth::controllers::endpointslicemirroring
