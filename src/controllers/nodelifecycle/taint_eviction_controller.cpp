#include "controllers/nodelifecycle/taint_eviction_controller.h"

#include <boost/json.hpp>

#include "controllers/nodelifecycle/node_health.h"
#include "controllers/nodelifecycle/nodelifecycle_controller.h"
#include "core/clock.h"
#include "core/json_access.h"

namespace berth::controllers::nodelifecycle {

namespace json = boost::json;
using core::objectField;
using core::stringField;

namespace {

json::array noExecuteTaints(const json::value& node) {
  json::array out;
  const auto* spec = objectField(node.as_object(), "spec");
  const json::value* ts = spec ? spec->if_contains("taints") : nullptr;
  if (!ts || !ts->is_array()) return out;
  for (const auto& t : ts->as_array())
    if (t.is_object() && stringField(t.as_object(), "effect") == "NoExecute") out.push_back(t);
  return out;
}

std::string nodeNameOf(const json::value& pod) {
  const auto* spec = objectField(pod.as_object(), "spec");
  return spec ? stringField(*spec, "nodeName") : "";
}
}  // namespace

TaintEvictionController::TaintEvictionController(ControllerContext& ctx)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      nodes_(ctx.informers.forResource(kNodes)),
      pods_(ctx.informers.forResource(kPods)),
      workers_("taint-eviction-controller", ctx.metrics,
               [this](const std::string& key) { return sync(key); }) {
  ensurePodsByNodeIndex(pods_);
  client::EventHandler nodeEvents;
  nodeEvents.onAdd = [this](const client::ObjectPtr& n) {
    if (!noExecuteTaints(*n).empty()) enqueuePodsOn(std::string(client::objectName(*n)));
  };
  nodeEvents.onUpdate = [this](const client::ObjectPtr& oldNode, const client::ObjectPtr& n) {
    if (noExecuteTaints(*oldNode) != noExecuteTaints(*n))
      enqueuePodsOn(std::string(client::objectName(*n)));
  };
  nodes_.addEventHandler(std::move(nodeEvents));
  client::EventHandler podEvents;
  podEvents.onAdd = [this](const client::ObjectPtr& p) {
    if (!nodeNameOf(*p).empty()) workers_.enqueue(keyOf(*p));
  };
  podEvents.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr& p) {
    if (!nodeNameOf(*p).empty()) workers_.enqueue(keyOf(*p));
  };
  podEvents.onDelete = [this](const client::DeletedObject& d) { workers_.enqueue(d.key); };
  pods_.addEventHandler(std::move(podEvents));
}

void TaintEvictionController::run() { workers_.start(workerCount_); }

void TaintEvictionController::stop() { workers_.stop(); }

void TaintEvictionController::enqueuePodsOn(const std::string& node) {
  auto keys = pods_.indexer().indexKeys(kPodsByNodeIndex, node);
  if (!keys.ok()) return;
  for (const auto& k : *keys) workers_.enqueue(k);
}

core::Status TaintEvictionController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  client::ObjectPtr pod = pods_.lister().get(ns, name);
  client::ObjectPtr node = pod ? nodes_.lister().get("", nodeNameOf(*pod)) : nullptr;
  const auto* meta = pod ? objectField(pod->as_object(), "metadata") : nullptr;
  std::optional<long long> delay;
  if (node && meta && stringField(*meta, "deletionTimestamp").empty())
    delay = evictionDelaySeconds(pod->as_object(), noExecuteTaints(*node));
  auto now = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point deadline;
  {
    std::lock_guard lock(mu_);
    if (!delay) {
      countdownStart_.erase(key);  // gone, terminating, untainted or tolerated for ever
      return {};
    }
    auto [it, fresh] = countdownStart_.emplace(key, now);
    deadline = it->second + std::chrono::seconds(*delay);
  }
  if (now < deadline) {
    workers_.queue().addAfter(key, deadline - now);
    return {};
  }
  return evict(pod->as_object(), key);
}

core::Status TaintEvictionController::evict(const json::object& pod, const std::string& key) {
  std::string ns(client::objectNamespace(json::value(pod)));
  std::string name(client::objectName(json::value(pod)));
  const auto* meta = objectField(pod, "metadata");
  std::string uid = meta ? stringField(*meta, "uid") : "";
  // As upstream (PodDisruptionConditions): say why before the pod goes.
  json::object condition{
      {"metadata", {{"uid", uid}}},
      {"status",
       {{"conditions",
         json::array{json::object{{"type", "DisruptionTarget"},
                                  {"status", "True"},
                                  {"reason", "DeletionByTaintManager"},
                                  {"message", "Taint manager: deleting due to NoExecute taint"},
                                  {"lastTransitionTime", core::nowRfc3339()}}}}}}};
  (void)client_.patch(kPods, ns, name, client::PatchType::kStrategicMerge,
                      json::serialize(condition), {.subresource = "status"});
  json::value options = json::object{
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"preconditions", {{"uid", uid}}}};
  auto res = client_.remove(kPods, ns, name, &options);
  if (!res.ok() && !res.status().isNotFound() && !res.status().isConflict()) return res.status();
  std::lock_guard lock(mu_);
  countdownStart_.erase(key);
  return {};
}

}  // namespace berth::controllers::nodelifecycle
