#pragma once
// The Endpoints controller (upstream pkg/controller/endpoint): one v1 Endpoints per Service with
// a selector, named as the Service, with the subsets of subsets.h, the Service's labels (plus
// service.kubernetes.io/headless for headless ones), endpoints.kubernetes.io/
// last-change-trigger-time when its content changes and endpoints.kubernetes.io/over-capacity=
// truncated above 1000 addresses. Deleted with its Service. Services without a selector (the
// API server's own `kubernetes`, user-managed ones) are left alone.
//
// Thread-safety: handlers enqueue keys; sync runs on worker threads, one key at a time.
#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers::endpoints {

class EndpointsController : public Controller {
 public:
  explicit EndpointsController(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& key);

 private:
  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& services_;
  client::SharedInformer& pods_;
  client::SharedInformer& endpoints_;
  QueueWorkers workers_;
};

}  // namespace berth::controllers::endpoints
