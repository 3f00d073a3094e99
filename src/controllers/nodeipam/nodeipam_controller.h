#pragma once
// The node IPAM controller (upstream's nodeipam with the RangeAllocator): gives every Node a
// spec.podCIDR (and podCIDRs) block of --cluster-cidr, --node-cidr-mask-size wide (defaults
// 10.244.0.0/16 and /24, DESIGN.md's pod range). Blocks nodes already hold are taken from the
// cache before the workers start (so a restart never hands one out twice); a deleted node's
// block is freed.
//
// Thread-safety: event handlers enqueue node names; sync runs on the worker threads, the
// allocator behind mu_.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/nodeipam/cidr_set.h"

namespace berth::controllers::nodeipam {

struct NodeIpamOptions {
  std::string clusterCidr = "10.244.0.0/16";
  int nodeCidrMaskSize = 24;
};

class NodeIpamController : public Controller {
 public:
  // Fails (BadRequest) on a malformed --cluster-cidr or mask size.
  static core::Result<std::unique_ptr<NodeIpamController>> create(ControllerContext& ctx,
                                                                  NodeIpamOptions options = {});
  // With the defaults overridden by ctx.flags (cluster-cidr, node-cidr-mask-size), which the
  // commands have checked; aborts with the message when the pair still does not fit.
  static std::unique_ptr<NodeIpamController> createOrDie(ControllerContext& ctx,
                                                         NodeIpamOptions options = {});
  void run() override;
  void stop() override;

  core::Status sync(const std::string& name);

 private:
  NodeIpamController(ControllerContext& ctx, CidrSet cidrs);
  // Takes the node's current podCIDR into the set; false when it has none.
  bool occupyExisting(const std::string& name, const boost::json::value& node);

  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& nodes_;
  std::mutex mu_;
  CidrSet cidrs_;
  std::map<std::string, core::Ipv4Cidr> byNode_;  // what this controller knows each node holds
  QueueWorkers workers_;
};

}  // namespace berth::controllers::nodeipam
