#include "controllers/nodelifecycle/nodelifecycle_controller.h"

#include <boost/json.hpp>

#include <iostream>
#include <set>

#include "controllers/framework/flags.h"
#include "core/clock.h"
#include "core/json_access.h"

namespace berth::controllers::nodelifecycle {

namespace json = boost::json;
using core::objectField;
using core::stringField;

namespace {
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
}  // namespace

LifecycleOptions lifecycleOptionsFrom(const ControllerContext& ctx) {
  LifecycleOptions o;
  o.health.monitorGracePeriod =
      durationFlag(ctx.flags, "node-monitor-grace-period", o.health.monitorGracePeriod);
  o.health.startupGracePeriod =
      durationFlag(ctx.flags, "node-startup-grace-period", o.health.startupGracePeriod);
  o.monitorPeriod = durationFlag(ctx.flags, "node-monitor-period", o.monitorPeriod);
  if (o.monitorPeriod.count() <= 0) o.monitorPeriod = std::chrono::milliseconds(5000);
  return o;
}

void ensurePodsByNodeIndex(client::SharedInformer& pods) {
  // Conflict = the other controller of this folder added it already; same function.
  (void)pods.addIndexers({{kPodsByNodeIndex, [](const json::value& pod) {
                             const auto* spec = objectField(pod.as_object(), "spec");
                             std::string node = spec ? stringField(*spec, "nodeName") : "";
                             return node.empty() ? std::vector<std::string>{}
                                                 : std::vector<std::string>{node};
                           }}});
}

NodeLifecycleController::NodeLifecycleController(ControllerContext& ctx, LifecycleOptions options)
    : client_(ctx.client),
      nodes_(ctx.informers.forResource(kNodes)),
      leases_(ctx.informers.forResource(kLeases)),
      pods_(ctx.informers.forResource(kPods)),
      options_(options) {
  ensurePodsByNodeIndex(pods_);
}

NodeLifecycleController::~NodeLifecycleController() { stop(); }

void NodeLifecycleController::run() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      monitorNodeHealth();
      lock.lock();
      cv_.wait_for(lock, options_.monitorPeriod, [this] { return stopping_; });
    }
  });
}

void NodeLifecycleController::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeLifecycleController::monitorNodeHealth() {
  auto now = std::chrono::steady_clock::now();
  std::string nowText = core::nowRfc3339();
  std::set<std::string> present;
  for (const auto& node : nodes_.lister().list("")) {
    std::string name(client::objectName(*node));
    present.insert(name);
    monitorNode(node, now, nowText);
  }
  for (auto it = health_.begin(); it != health_.end();)
    it = present.count(it->first) ? std::next(it) : health_.erase(it);
}

void NodeLifecycleController::monitorNode(const client::ObjectPtr& nodePtr, SteadyTime now,
                                          const std::string& nowText) {
  std::string name(client::objectName(*nodePtr));
  std::string renew;
  if (auto lease = leases_.lister().get("kube-node-lease", name)) {
    const auto* spec = objectField(lease->as_object(), "spec");
    renew = spec ? stringField(*spec, "renewTime") : "";
  }
  json::object node = nodePtr->as_object();
  HealthVerdict health =
      assessNodeHealth(node, renew, health_[name], now, options_.health, nowText);
  if (health.changed) {
    if (!node["status"].is_object()) node["status"] = json::object();
    node["status"].as_object()["conditions"] = health.conditions;
    auto res = client_.updateStatus(kNodes, "", node);
    if (!res.ok()) {
      // A conflict means the kubelet just wrote: next pass looks again.
      if (!res.status().isConflict())
        std::cerr << "nodelifecycle: node " << name << ": " << res.status().message() << "\n";
      return;
    }
    node = std::move(res).value().as_object();
  }
  TaintVerdict taints = desiredTaints(node, nowText);
  if (taints.changed) {
    const auto* meta = objectField(node, "metadata");
    json::object patch{
        {"metadata", {{"resourceVersion", meta ? stringField(*meta, "resourceVersion") : ""}}},
        // No taints left: the field goes, as upstream's omitempty leaves it.
        {"spec",
         {{"taints", taints.taints.empty() ? json::value(nullptr) : json::value(taints.taints)}}}};
    auto res = client_.patch(kNodes, "", name, client::PatchType::kMerge, json::serialize(patch));
    if (!res.ok() && !res.status().isConflict() && !res.status().isNotFound())
      std::cerr << "nodelifecycle: tainting node " << name << ": " << res.status().message()
                << "\n";
  }
  if (!health.readyStatus.empty() && health.readyStatus != "True") markPodsNotReady(name, nowText);
}

void NodeLifecycleController::markPodsNotReady(const std::string& node,
                                               const std::string& nowText) {
  auto pods = pods_.indexer().byIndex(kPodsByNodeIndex, node);
  if (!pods.ok()) return;
  for (const auto& pod : *pods) {
    auto patch = podNotReadyPatch(pod->as_object(), nowText);
    if (!patch) continue;
    auto res = client_.patch(kPods, client::objectNamespace(*pod), client::objectName(*pod),
                             client::PatchType::kStrategicMerge, json::serialize(*patch),
                             {.subresource = "status"});
    if (!res.ok() && !res.status().isNotFound() && !res.status().isConflict())
      std::cerr << "nodelifecycle: marking pod " << client::objectName(*pod)
                << " not ready: " << res.status().message() << "\n";
  }
}

}  // namespace berth::controllers::nodelifecycle
