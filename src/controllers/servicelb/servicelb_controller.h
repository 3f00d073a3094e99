#pragma once
// The built-in service load balancer: gives `type: LoadBalancer` Services their
// status.loadBalancer.ingress addresses (the proxy on every node makes them answer).
//
// Two modes, by the controller flag service-lb-pool:
// - empty (default), as k3s's servicelb: every LoadBalancer Service gets the addresses of the
//   nodes (ExternalIP, else InternalIP, of Ready nodes), shared, told apart by port;
// - a pool (address_pool.h): each Service gets one address of its own, spec.loadBalancerIP when
//   it asks for one that is free, else the lowest free one; an address is never given twice.
//   Addresses Services already show are taken back at start (oldest Service first), so a
//   restart keeps them. A Service asking for a taken or foreign address gets a Warning event
//   (AllocationFailed) and no address.
// Addresses are released when the Service stops being a LoadBalancer (its ingress is cleared)
// or is deleted. Services with a spec.loadBalancerClass other than ours
// ("berth.io/service-lb") belong to another implementation and are ignored.
//
// Thread-safety: handlers enqueue keys; sync runs on worker threads; the pool behind mu_.
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/event_recorder.h"
#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/servicelb/address_pool.h"

namespace berth::controllers::servicelb {

inline constexpr const char* kLoadBalancerClass = "berth.io/service-lb";

class ServiceLbController : public Controller {
 public:
  // Aborts with the message when the service-lb-pool flag is malformed (the commands check it).
  explicit ServiceLbController(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& key);

 private:
  // The ingress IPs the Service should show; nullopt when it gets none (yet).
  std::optional<std::vector<std::string>> desiredAddresses(const std::string& key,
                                                           const boost::json::value& service);
  std::vector<std::string> nodeAddresses() const;
  void enqueueLoadBalancers();

  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& services_;
  client::SharedInformer& nodes_;
  client::EventRecorder recorder_;
  std::mutex mu_;
  AddressPool pool_;  // empty: node-address mode
  QueueWorkers workers_;
};

}  // namespace berth::controllers::servicelb
