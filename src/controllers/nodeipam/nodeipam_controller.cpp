#include "controllers/nodeipam/nodeipam_controller.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

#include "controllers/framework/flags.h"
#include "core/json_access.h"

namespace berth::controllers::nodeipam {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kNodes{"", "v1", "nodes", false};

std::string podCidrOf(const json::value& node) {
  const auto* spec = core::objectField(node.as_object(), "spec");
  return spec ? core::stringField(*spec, "podCIDR") : "";
}
}  // namespace

core::Result<std::unique_ptr<NodeIpamController>> NodeIpamController::create(
    ControllerContext& ctx, NodeIpamOptions options) {
  auto cluster = core::parseIpv4Cidr(options.clusterCidr);
  if (!cluster.ok()) return cluster.status();
  auto set = CidrSet::create(*cluster, options.nodeCidrMaskSize);
  if (!set.ok()) return set.status();
  return std::unique_ptr<NodeIpamController>(new NodeIpamController(ctx, std::move(set).value()));
}

std::unique_ptr<NodeIpamController> NodeIpamController::createOrDie(ControllerContext& ctx,
                                                                    NodeIpamOptions options) {
  options.clusterCidr = stringFlag(ctx.flags, "cluster-cidr", options.clusterCidr);
  options.nodeCidrMaskSize = std::atoi(
      stringFlag(ctx.flags, "node-cidr-mask-size", std::to_string(options.nodeCidrMaskSize))
          .c_str());
  auto c = create(ctx, std::move(options));
  if (!c.ok()) {
    std::cerr << "nodeipam: " << c.status().message() << "\n";
    std::abort();
  }
  return std::move(c).value();
}

// The context is the manager's temporary: keep what it refers to, not the context itself.
NodeIpamController::NodeIpamController(ControllerContext& ctx, CidrSet cidrs)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      nodes_(ctx.informers.forResource(kNodes)),
      cidrs_(std::move(cidrs)),
      workers_("nodeipam", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  client::EventHandler h;
  h.onAdd = [this](const client::ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
  h.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr& o) {
    if (podCidrOf(*o).empty()) workers_.enqueue(keyOf(*o));
  };
  h.onDelete = [this](const client::DeletedObject& d) { workers_.enqueue(d.key); };
  nodes_.addEventHandler(std::move(h));
}

bool NodeIpamController::occupyExisting(const std::string& name, const json::value& node) {
  std::string cidr = podCidrOf(node);
  if (cidr.empty()) return false;
  auto parsed = core::parseIpv4Cidr(cidr);
  if (!parsed.ok()) return true;  // not ours to fix; upstream logs and leaves it
  if (auto st = cidrs_.occupy(*parsed); !st.ok()) {
    std::cerr << "nodeipam: node " << name << ": " << st.message() << "\n";
    return true;
  }
  auto held = byNode_.find(name);
  if (held != byNode_.end() && held->second.base != parsed->base) cidrs_.release(held->second);
  byNode_[name] = *parsed;
  return true;
}

void NodeIpamController::run() {
  {
    // The cache has synced: take every block already given before handing out new ones.
    std::lock_guard lock(mu_);
    for (const auto& node : nodes_.lister().list("")) occupyExisting(keyOf(*node), *node);
  }
  workers_.start(workerCount_);
}

void NodeIpamController::stop() { workers_.stop(); }

Status NodeIpamController::sync(const std::string& name) {
  client::ObjectPtr node = nodes_.lister().get("", name);
  std::optional<core::Ipv4Cidr> cidr;
  {
    std::lock_guard lock(mu_);
    auto held = byNode_.find(name);
    if (!node) {
      // Deleted: its block goes back (after a re-create the node gets a new one), and nodes
      // waiting on a full range get another try now rather than at their backoff's end.
      if (held != byNode_.end()) {
        cidrs_.release(held->second);
        byNode_.erase(held);
        for (const auto& other : nodes_.lister().list(""))
          if (podCidrOf(*other).empty()) workers_.enqueue(keyOf(*other));
      }
      return {};
    }
    if (occupyExisting(name, *node)) return {};
    if (held != byNode_.end()) {
      cidr = held->second;  // chosen by an earlier sync whose write failed
    } else {
      cidr = cidrs_.allocate();
      if (!cidr) {
        return Status::generic(503, "ServiceUnavailable",
                               "CIDR allocation failed for node " + name +
                                   "; there are no remaining CIDRs left to allocate in the "
                                   "accepted range");
      }
      byNode_[name] = *cidr;
    }
  }
  // The UID guards against writing to a node re-created under the same name meanwhile.
  const auto* meta = core::objectField(node->as_object(), "metadata");
  json::object patch{{"metadata", {{"uid", meta ? core::stringField(*meta, "uid") : ""}}},
                     {"spec", {{"podCIDR", cidr->str()}, {"podCIDRs", json::array{cidr->str()}}}}};
  auto res =
      client_.patch(kNodes, "", name, client::PatchType::kStrategicMerge, json::serialize(patch));
  if (res.ok()) return {};
  if (res.status().isNotFound() || res.status().isConflict()) {
    // Gone, or re-created under this name (UID precondition): free the block; a node that is
    // still there is synced again and gets one.
    std::lock_guard lock(mu_);
    if (auto held = byNode_.find(name); held != byNode_.end()) {
      cidrs_.release(held->second);
      byNode_.erase(held);
    }
    return res.status().isConflict() ? res.status() : Status();
  }
  return res.status();  // retried with backoff, the same block kept for this node
}

}  // namespace berth::controllers::nodeipam
