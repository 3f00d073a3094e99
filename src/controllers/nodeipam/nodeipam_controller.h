#pragma once
// The node IPAM controller (upstream's nodeipam with the RangeAllocator): gives every Node
// spec.podCIDRs, one block of each --cluster-cidr (an IPv4,IPv6 pair on a dual-stack cluster),
// sized by the node mask flags (node_cidr_config.h; defaults 10.244.0.0/16 and /24, DESIGN.md's
// pod range), and spec.podCIDR = the first. Blocks nodes already hold are taken from the cache
// before the workers start (so a restart never hands one out twice); a deleted node's blocks are
// freed.
//
// Thread-safety: event handlers enqueue node names; sync runs on the worker threads, the
// allocator behind mu_.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/nodeipam/cidr_set.h"
#include "controllers/nodeipam/node_cidr_config.h"

namespace berth::controllers::nodeipam {

class NodeIpamController : public Controller {
 public:
  // Fails (BadRequest) when a mask size does not fit its cluster CIDR.
  static core::Result<std::unique_ptr<NodeIpamController>> create(ControllerContext& ctx,
                                                                  const NodeCidrConfig& config);
  // From ctx.flags (nodeCidrConfig), which the commands have checked; aborts with the message
  // when they still do not fit.
  static std::unique_ptr<NodeIpamController> createOrDie(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& name);

 private:
  NodeIpamController(ControllerContext& ctx, std::vector<CidrSet> cidrs);
  // Takes the node's current podCIDRs into the sets; false when it has none.
  bool occupyExisting(const std::string& name, const boost::json::value& node);
  void releaseAll(const std::vector<core::IpCidr>& blocks);

  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& nodes_;
  std::mutex mu_;
  std::vector<CidrSet> cidrs_;  // one per cluster CIDR, in --cluster-cidr order
  // What this controller knows each node holds, one block per set (in the sets' order).
  std::map<std::string, std::vector<core::IpCidr>> byNode_;
  QueueWorkers workers_;
};

}  // namespace berth::controllers::nodeipam
