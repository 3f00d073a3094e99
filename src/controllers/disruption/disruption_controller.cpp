#include "controllers/disruption/disruption_controller.h"

#include <boost/json.hpp>

#include <set>

#include "controllers/disruption/budget.h"
#include "core/clock.h"
#include "core/json_access.h"
#include "core/labels.h"

namespace berth::controllers {

namespace json = boost::json;
using core::Result;
using core::Status;

namespace {

const client::Resource kPdbs{"policy", "v1", "poddisruptionbudgets", true};
const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};
const client::Resource kReplicationControllers{"", "v1", "replicationcontrollers", true};
const client::Resource kDeployments{"apps", "v1", "deployments", true};
const client::Resource kStatefulSets{"apps", "v1", "statefulsets", true};

const json::object* field(const json::value& obj, std::string_view name) {
  return obj.is_object() ? core::objectField(obj.as_object(), name) : nullptr;
}

// The ownerReference with controller=true, if any.
const json::object* controllerRefOf(const json::value& obj) {
  const auto* meta = field(obj, "metadata");
  auto* refs = meta ? meta->if_contains("ownerReferences") : nullptr;
  if (!refs || !refs->is_array()) return nullptr;
  for (const auto& r : refs->as_array()) {
    if (!r.is_object()) continue;
    auto* c = r.as_object().if_contains("controller");
    if (c && c->is_bool() && c->as_bool()) return &r.as_object();
  }
  return nullptr;
}

std::string uidOf(const json::value& obj) {
  const auto* meta = field(obj, "metadata");
  return meta ? core::stringField(*meta, "uid") : "";
}

// spec.replicas, defaulting to 1 as the workload kinds do.
int specReplicas(const json::value& obj) {
  const auto* spec = field(obj, "spec");
  auto* r = spec ? spec->if_contains("replicas") : nullptr;
  return r && r->is_int64() ? static_cast<int>(r->as_int64()) : 1;
}

// The pod selector of a budget; nullopt for a budget without one (it selects no pods).
std::optional<core::LabelSelector> selectorOf(const json::value& pdb) {
  const auto* spec = field(pdb, "spec");
  const auto* sel = spec ? core::objectField(*spec, "selector") : nullptr;
  if (!sel) return std::nullopt;
  auto s = core::LabelSelector::fromJson(*sel);
  if (!s.ok()) return std::nullopt;
  return std::move(s).value();
}

}  // namespace

DisruptionController::DisruptionController(ControllerContext& ctx)
    : ctx_(ctx),
      pdbs_(ctx.informers.forResource(kPdbs)),
      pods_(ctx.informers.forResource(kPods)),
      replicaSets_(ctx.informers.forResource(kReplicaSets)),
      replicationControllers_(ctx.informers.forResource(kReplicationControllers)),
      deployments_(ctx.informers.forResource(kDeployments)),
      statefulSets_(ctx.informers.forResource(kStatefulSets)),
      recorder_(ctx.client, "controllermanager"),
      workers_("disruption", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  auto enqueuePdb = [this](const client::ObjectPtr& obj) { workers_.enqueue(keyOf(*obj)); };
  client::EventHandler pdbHandler;
  pdbHandler.onAdd = enqueuePdb;
  pdbHandler.onUpdate = [enqueuePdb](const client::ObjectPtr&, const client::ObjectPtr& obj) {
    enqueuePdb(obj);
  };
  pdbHandler.onDelete = [](const client::DeletedObject&) {};
  handlers_.emplace_back(&pdbs_, pdbs_.addEventHandler(std::move(pdbHandler)));

  client::EventHandler podHandler;
  podHandler.onAdd = [this](const client::ObjectPtr& pod) { enqueueBudgetsFor(pod); };
  podHandler.onUpdate = [this](const client::ObjectPtr& oldPod, const client::ObjectPtr& pod) {
    enqueueBudgetsFor(oldPod);
    enqueueBudgetsFor(pod);
  };
  podHandler.onDelete = [this](const client::DeletedObject& d) {
    if (d.object) enqueueBudgetsFor(d.object);
  };
  handlers_.emplace_back(&pods_, pods_.addEventHandler(std::move(podHandler)));

  // A controller's new scale changes the expected pods of the budgets over its pods before
  // any pod changes: revisit the budgets of its namespace.
  for (auto* inf : {&replicaSets_, &replicationControllers_, &deployments_, &statefulSets_}) {
    client::EventHandler h;
    h.onUpdate = [this](const client::ObjectPtr& oldObj, const client::ObjectPtr& obj) {
      if (specReplicas(*oldObj) == specReplicas(*obj)) return;
      for (const auto& pdb : pdbs_.lister().list(client::objectNamespace(*obj)))
        workers_.enqueue(keyOf(*pdb));
    };
    handlers_.emplace_back(inf, inf->addEventHandler(std::move(h)));
  }
}

DisruptionController::~DisruptionController() { stop(); }

void DisruptionController::run() { workers_.start(std::max(ctx_.workers, 1)); }

void DisruptionController::stop() {
  workers_.stop();
  for (auto& [informer, id] : handlers_) informer->removeEventHandler(id);
  handlers_.clear();
}

void DisruptionController::enqueueBudgetsFor(const client::ObjectPtr& pod) {
  std::string ns(client::objectNamespace(*pod));
  auto labels = core::labelsOf(pod->as_object());
  for (const auto& pdb : pdbs_.lister().list(ns)) {
    auto sel = selectorOf(*pdb);
    if (sel && sel->matches(labels)) workers_.enqueue(keyOf(*pdb));
  }
}

Status DisruptionController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  auto pdb = pdbs_.lister().get(ns, name);
  if (!pdb) return {};
  std::vector<client::ObjectPtr> pods;
  if (auto sel = selectorOf(*pdb)) pods = pods_.lister().list(ns, &*sel);
  std::vector<disruption::PodState> states;
  for (const auto& p : pods) states.push_back(disruption::podStateOf(*p));

  const auto* meta = field(*pdb, "metadata");
  auto* g = meta ? meta->if_contains("generation") : nullptr;
  int64_t generation = g && g->is_int64() ? g->as_int64() : 0;
  static const json::object kEmpty;
  const auto* oldStatus = field(*pdb, "status");
  if (!oldStatus) oldStatus = &kEmpty;
  const auto* spec = field(*pdb, "spec");
  std::string now = core::nowRfc3339();

  if (pods.empty()) recorder_.record(*pdb, "Normal", "NoPods", "No matching pods found");
  std::vector<std::string> unmanaged;
  auto e = disruption::expectation(spec ? *spec : kEmpty, static_cast<int>(pods.size()),
                                   [&] { return expectedScale(ns, pods, unmanaged); });
  if (!e.ok()) {
    recorder_.record(*pdb, "Warning", "CalculateExpectedPodCountFailed",
                     "Failed to calculate the number of expected pods: " + e.status().message());
  } else if (!unmanaged.empty()) {
    const json::value* sel = spec ? spec->if_contains("selector") : nullptr;
    recorder_.record(
        *pdb, "Warning", "UnmanagedPods",
        "Pods selected by this PodDisruptionBudget (selector: " +
            disruption::goSelectorString(sel) +
            ") were found to be unmanaged. As a result, the status of the PDB cannot be "
            "calculated correctly, which may result in undefined behavior. To account for these "
            "pods please set \".spec.minAvailable\" field of the PDB to an integer value.");
  }
  json::object status;
  std::optional<disruption::TimePoint> recheck;
  if (!e.ok()) {
    status = disruption::failSafeStatus(*oldStatus, generation, e.status().message(), now);
  } else {
    auto disrupted = disruption::keptDisruptedPods(
        states, core::objectField(*oldStatus, "disruptedPods"), std::chrono::system_clock::now());
    recheck = disrupted.recheckAt;
    status = disruption::statusFor(*oldStatus, generation,
                                   disruption::countHealthy(states, disrupted), *e, disrupted, now);
  }
  if (recheck) {
    auto wait = *recheck - std::chrono::system_clock::now() + std::chrono::seconds(1);
    workers_.queue().addAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(wait));
  }
  if (status == *oldStatus) return e.ok() ? Status() : e.status();
  json::object next = pdb->as_object();  // a copy: cached objects are shared
  next["status"] = std::move(status);
  auto r = ctx_.client.updateStatus(kPdbs, ns, next);
  if (!r.ok() && !r.status().isNotFound()) return r.status();
  return e.ok() ? Status() : e.status();
}

Result<int> DisruptionController::expectedScale(const std::string& ns,
                                                const std::vector<client::ObjectPtr>& pods,
                                                std::vector<std::string>& unmanaged) {
  std::set<std::string> counted;
  int total = 0;
  for (const auto& pod : pods) {
    const auto* ref = controllerRefOf(*pod);
    if (!ref) {
      // Unmanaged pods do not count toward the expected scale (upstream).
      unmanaged.emplace_back(client::objectName(*pod));
      continue;
    }
    std::string uid = core::stringField(*ref, "uid");
    if (!counted.insert(uid).second) continue;
    auto scale =
        controllerScale(ns, core::stringField(*ref, "apiVersion"), core::stringField(*ref, "kind"),
                        core::stringField(*ref, "name"), uid);
    if (!scale.ok()) {
      return Status::internal("found no controllers for pod \"" +
                              std::string(client::objectName(*pod)) + "\"");
    }
    total += *scale;
  }
  return total;
}

// The finders of upstream's getExpectedScale: listers for the workload kinds, /scale for others.
Result<int> DisruptionController::controllerScale(const std::string& ns,
                                                  const std::string& apiVersion,
                                                  const std::string& kind, const std::string& name,
                                                  const std::string& uid) {
  auto fromLister = [&](client::SharedInformer& inf) -> client::ObjectPtr {
    auto obj = inf.lister().get(ns, name);
    return obj && uidOf(*obj) == uid ? obj : nullptr;
  };
  std::string group = groupOf(apiVersion);
  if (group.empty() && kind == "ReplicationController") {
    if (auto rc = fromLister(replicationControllers_)) return specReplicas(*rc);
  } else if (group == "apps" && kind == "ReplicaSet") {
    if (auto rs = fromLister(replicaSets_)) {
      // A Deployment's ReplicaSet: the Deployment's scale is what the budget protects.
      const auto* owner = controllerRefOf(*rs);
      if (owner && core::stringField(*owner, "kind") == "Deployment" &&
          groupOf(core::stringField(*owner, "apiVersion")) == "apps") {
        auto d = deployments_.lister().get(ns, core::stringField(*owner, "name"));
        if (d && uidOf(*d) == core::stringField(*owner, "uid")) return specReplicas(*d);
      }
      return specReplicas(*rs);
    }
  } else if (group == "apps" && kind == "StatefulSet") {
    if (auto ss = fromLister(statefulSets_)) return specReplicas(*ss);
  }
  std::shared_ptr<const DiscoveryResult> d;
  {
    std::lock_guard lock(mu_);
    d = discovery_;
  }
  if (!d || !d->forKind(apiVersion, kind)) {
    auto found = discoverResources(ctx_.client);
    if (!found.ok()) return found.status();
    d = found.value();
    std::lock_guard lock(mu_);
    discovery_ = d;
  }
  const ApiResource* r = d->forKind(apiVersion, kind);
  if (!r) return Status::notFound("", kind);
  auto scale = ctx_.client.request("GET", client::RestClient::path(r->resource, ns, name, "scale"));
  if (!scale.ok()) return scale.status();
  if (uidOf(*scale) != uid) return Status::notFound(r->qualified(), name);
  const auto* spec = field(*scale, "spec");
  auto* n = spec ? spec->if_contains("replicas") : nullptr;
  return n && n->is_int64() ? static_cast<int>(n->as_int64()) : 0;
}

}  // namespace berth::controllers
