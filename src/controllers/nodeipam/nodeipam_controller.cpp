#include "controllers/nodeipam/nodeipam_controller.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

#include "core/json_access.h"

namespace berth::controllers::nodeipam {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kNodes{"", "v1", "nodes", false};

// spec.podCIDRs, or spec.podCIDR alone for a node written before podCIDRs existed.
std::vector<std::string> podCidrsOf(const json::value& node) {
  std::vector<std::string> out;
  const auto* spec = core::objectField(node.as_object(), "spec");
  if (!spec) return out;
  if (const auto* list = spec->if_contains("podCIDRs"); list && list->is_array())
    for (const auto& c : list->as_array())
      if (c.is_string() && !c.as_string().empty()) out.emplace_back(c.as_string());
  if (out.empty() && !core::stringField(*spec, "podCIDR").empty())
    out.push_back(core::stringField(*spec, "podCIDR"));
  return out;
}
}  // namespace

core::Result<std::unique_ptr<NodeIpamController>> NodeIpamController::create(
    ControllerContext& ctx, const NodeCidrConfig& config) {
  std::vector<CidrSet> sets;
  for (size_t i = 0; i < config.clusterCidrs.size(); ++i) {
    auto set = CidrSet::create(config.clusterCidrs[i], config.maskSizes.at(i));
    if (!set.ok()) return set.status();
    sets.push_back(std::move(set).value());
  }
  return std::unique_ptr<NodeIpamController>(new NodeIpamController(ctx, std::move(sets)));
}

std::unique_ptr<NodeIpamController> NodeIpamController::createOrDie(ControllerContext& ctx) {
  auto config = nodeCidrConfig(ctx.flags);
  auto c = config.ok() ? create(ctx, *config) : config.status();
  if (!c.ok()) {
    std::cerr << "nodeipam: " << c.status().message() << "\n";
    std::abort();
  }
  return std::move(c).value();
}

// The context is the manager's temporary: keep what it refers to, not the context itself.
NodeIpamController::NodeIpamController(ControllerContext& ctx, std::vector<CidrSet> cidrs)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      nodes_(ctx.informers.forResource(kNodes)),
      cidrs_(std::move(cidrs)),
      workers_("nodeipam", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  client::EventHandler h;
  h.onAdd = [this](const client::ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
  h.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr& o) {
    if (podCidrsOf(*o).empty()) workers_.enqueue(keyOf(*o));
  };
  h.onDelete = [this](const client::DeletedObject& d) { workers_.enqueue(d.key); };
  nodes_.addEventHandler(std::move(h));
}

void NodeIpamController::releaseAll(const std::vector<core::IpCidr>& blocks) {
  for (size_t i = 0; i < blocks.size() && i < cidrs_.size(); ++i) cidrs_[i].release(blocks[i]);
}

bool NodeIpamController::occupyExisting(const std::string& name, const json::value& node) {
  auto cidrs = podCidrsOf(node);
  if (cidrs.empty()) return false;
  // As upstream's occupyCIDRs: the i-th podCIDR belongs to the i-th cluster CIDR. A node that
  // holds fewer (e.g. from before the cluster became dual-stack) keeps what it has: podCIDRs
  // may not change once set.
  std::vector<core::IpCidr> held;
  for (size_t i = 0; i < cidrs.size(); ++i) {
    auto parsed = core::parseIpCidr(cidrs[i]);
    if (!parsed.ok()) return true;  // not ours to fix; upstream logs and leaves it
    Status st = i < cidrs_.size() ? cidrs_[i].occupy(*parsed)
                                  : Status::badRequest("has an allocated cidr: " + cidrs[i] +
                                                       " at index:" + std::to_string(i) +
                                                       " that does not exist in cluster cidrs "
                                                       "configuration");
    if (!st.ok()) {
      std::cerr << "nodeipam: node " << name << ": " << st.message() << "\n";
      return true;
    }
    held.push_back(*parsed);
  }
  auto known = byNode_.find(name);
  if (known != byNode_.end()) {
    for (size_t i = 0; i < known->second.size(); ++i)
      if (i >= held.size() || known->second[i].base != held[i].base)
        cidrs_[i].release(known->second[i]);
  }
  byNode_[name] = std::move(held);
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
  std::vector<core::IpCidr> blocks;
  {
    std::lock_guard lock(mu_);
    auto held = byNode_.find(name);
    if (!node) {
      // Deleted: its blocks go back (after a re-create the node gets new ones), and nodes
      // waiting on a full range get another try now rather than at their backoff's end.
      if (held != byNode_.end()) {
        releaseAll(held->second);
        byNode_.erase(held);
        for (const auto& other : nodes_.lister().list(""))
          if (podCidrsOf(*other).empty()) workers_.enqueue(keyOf(*other));
      }
      return {};
    }
    if (occupyExisting(name, *node)) return {};
    if (held != byNode_.end()) {
      blocks = held->second;  // chosen by an earlier sync whose write failed
    } else {
      // One block of each family, or none: a node never gets half its podCIDRs.
      for (auto& set : cidrs_) {
        auto cidr = set.allocate();
        if (!cidr) {
          releaseAll(blocks);
          return Status::generic(503, "ServiceUnavailable",
                                 "CIDR allocation failed for node " + name +
                                     "; there are no remaining CIDRs left to allocate in the "
                                     "accepted range");
        }
        blocks.push_back(*cidr);
      }
      byNode_[name] = blocks;
    }
  }
  // The UID guards against writing to a node re-created under the same name meanwhile.
  const auto* meta = core::objectField(node->as_object(), "metadata");
  json::array list;
  for (const auto& b : blocks) list.emplace_back(b.str());
  json::object patch{{"metadata", {{"uid", meta ? core::stringField(*meta, "uid") : ""}}},
                     {"spec", {{"podCIDR", blocks.front().str()}, {"podCIDRs", list}}}};
  auto res =
      client_.patch(kNodes, "", name, client::PatchType::kStrategicMerge, json::serialize(patch));
  if (res.ok()) return {};
  if (res.status().isNotFound() || res.status().isConflict()) {
    // Gone, or re-created under this name (UID precondition): free the blocks; a node that is
    // still there is synced again and gets new ones.
    std::lock_guard lock(mu_);
    if (auto held = byNode_.find(name); held != byNode_.end()) {
      releaseAll(held->second);
      byNode_.erase(held);
    }
    return res.status().isConflict() ? res.status() : Status();
  }
  return res.status();  // retried with backoff, the same blocks kept for this node
}

}  // namespace berth::controllers::nodeipam
