#include "apiserver/authorization.h"

#include <boost/json.hpp>

#include <algorithm>

#include "apiserver/authz/node_authorizer.h"
#include "apiserver/registry.h"
#include "core/json_access.h"
#include "core/labels.h"
#include "core/resources.h"

namespace berth::apiserver {
namespace json = boost::json;
using Kind = authz::PolicySource::Kind;

namespace {

constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

const core::ResourceType& rbacType(Kind kind) {
  static const char* plurals[] = {"roles", "clusterroles", "rolebindings", "clusterrolebindings"};
  return *core::findResource(kRbacGroup, "v1", plurals[static_cast<int>(kind)]);
}

// "/registry/pods/ns/name" → "ns/name".
std::string objectKey(const std::string& storageKey, const std::string& prefix) {
  return storageKey.substr(std::min(prefix.size(), storageKey.size()));
}

}  // namespace

// RBAC objects straight from the watch cache; any change under their prefixes moves the
// generation (cache observers run after the event reached the cache).
class Authorization::CacheSource : public authz::PolicySource {
 public:
  explicit CacheSource(CacheSet& cache) : cache_(cache) {}
  void forEach(Kind kind, const std::function<void(std::string_view)>& fn) const override {
    const core::ResourceType& rt = rbacType(kind);
    ResourceCache* c = cache_.forType(rt);
    if (c == nullptr) return;
    int64_t rev = 0;
    for (const auto& o : c->list(rt.storagePrefix, &rev)) fn(o->json);
  }
  uint64_t generation() const override { return generation_.load(); }
  void bump() { generation_.fetch_add(1); }

 private:
  CacheSet& cache_;
  std::atomic<uint64_t> generation_{1};
};

core::Status Authorization::validateModes(const std::vector<std::string>& modes) {
  for (const auto& m : modes) {
    if (m != "Node" && m != "RBAC" && m != "AlwaysAllow")
      return core::Status::badRequest("unknown authorization mode \"" + m +
                                      "\" (supported: Node, RBAC, AlwaysAllow)");
  }
  return {};
}

Authorization::Authorization(std::vector<std::string> modes, CacheSet& cache)
    : modes_(std::move(modes)), cache_(cache) {
  source_ = std::make_unique<CacheSource>(cache);
  nodeGraph_ = std::make_unique<authz::NodeGraph>();
  auto* source = source_.get();
  for (Kind k : {Kind::kRole, Kind::kClusterRole, Kind::kRoleBinding, Kind::kClusterRoleBinding}) {
    bool clusterRoles = k == Kind::kClusterRole;
    cache.addObserver(rbacType(k).storagePrefix, [this, source, clusterRoles](const store::Event&) {
      source->bump();
      if (!clusterRoles) return;
      std::lock_guard lock(mu_);
      clusterRolesChanged_ = true;
      cv_.notify_all();
    });
  }
  // The Node authorizer's graph follows pods, claims and volumes as the cache sees them.
  auto* graph = nodeGraph_.get();
  using Changed = void (authz::NodeGraph::*)(const std::string&, std::string_view);
  using Deleted = void (authz::NodeGraph::*)(const std::string&);
  auto feed = [&cache, graph](const char* plural, Changed changed, Deleted deleted) {
    const std::string prefix = core::findResource("", "v1", plural)->storagePrefix;
    cache.addObserver(prefix, [graph, prefix, changed, deleted](const store::Event& e) {
      std::string key = objectKey(e.kv.key, prefix);
      if (e.type == store::Event::Type::kDelete) {
        (graph->*deleted)(key);
      } else {
        (graph->*changed)(key, e.kv.value);
      }
    });
  };
  feed("pods", &authz::NodeGraph::podChanged, &authz::NodeGraph::podDeleted);
  feed("persistentvolumeclaims", &authz::NodeGraph::pvcChanged, &authz::NodeGraph::pvcDeleted);
  feed("persistentvolumes", &authz::NodeGraph::pvChanged, &authz::NodeGraph::pvDeleted);

  bool any = false;
  auto chain = std::make_unique<authz::ChainAuthorizer>();
  chain->add(std::make_unique<authz::PrivilegedGroupAuthorizer>());
  for (const auto& m : modes_) {
    if (m == "AlwaysAllow") {
      chain->add(std::make_unique<authz::AlwaysAllowAuthorizer>());
      if (!any) return;  // AlwaysAllow first: authorization is off (chain_ stays null)
    } else if (m == "Node") {
      chain->add(std::make_unique<authz::NodeAuthorizer>(*nodeGraph_));
    } else if (m == "RBAC") {
      auto rbac = std::make_unique<authz::RbacAuthorizer>(*source_);
      rbac_ = rbac.get();
      chain->add(std::move(rbac));
    }
    any = true;
  }
  chain_ = std::move(chain);
}

Authorization::~Authorization() { stop(); }

core::Status Authorization::start(Registry& registry) {
  registry_ = &registry;
  if (auto st = reconcileBootstrapPolicy(registry); !st.ok()) return st;
  aggregator_ = std::thread([this] { aggregationLoop(); });
  return {};
}

void Authorization::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (aggregator_.joinable()) aggregator_.join();
}

void Authorization::aggregationLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(30),
                 [this] { return stopping_ || clusterRolesChanged_; });
    if (stopping_) break;
    clusterRolesChanged_ = false;
    lock.unlock();
    aggregateOnce();
    lock.lock();
  }
}

// Upstream's ClusterRoleAggregationController: an aggregated role's rules are the rules of every
// ClusterRole its selectors match (itself excluded), in name order, without duplicates.
void Authorization::aggregateOnce() {
  const core::ResourceType& rt = rbacType(Kind::kClusterRole);
  ResourceCache* c = cache_.forType(rt);
  if (c == nullptr || registry_ == nullptr) return;
  int64_t rev = 0;
  auto all = c->list(rt.storagePrefix, &rev);  // key order = name order
  for (const auto& target : all) {
    boost::system::error_code ec;
    json::value tv = json::parse(target->json, ec);
    if (ec || !tv.is_object()) continue;
    json::object& role = tv.as_object();
    const json::object* agg = core::objectField(role, "aggregationRule");
    if (agg == nullptr) continue;
    const json::value* sels = agg->if_contains("clusterRoleSelectors");
    if (sels == nullptr || !sels->is_array()) continue;
    std::vector<core::LabelSelector> selectors;
    for (const auto& s : sels->as_array()) {
      if (!s.is_object()) continue;
      auto sel = core::LabelSelector::fromJson(s.as_object());
      if (sel.ok()) selectors.push_back(std::move(*sel));
    }
    json::array rules;
    for (const auto& source : all) {
      if (source->name == target->name) continue;
      bool match = std::any_of(selectors.begin(), selectors.end(),
                               [&](const core::LabelSelector& s) { return s.matches(source->labels); });
      if (!match) continue;
      json::value sv = json::parse(source->json, ec);
      if (ec || !sv.is_object()) continue;
      const json::value* r = sv.as_object().if_contains("rules");
      if (r == nullptr || !r->is_array()) continue;
      for (const auto& rule : r->as_array())
        if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(rule);
    }
    const json::value* current = role.if_contains("rules");
    if (current != nullptr && current->is_array() && current->as_array() == rules) continue;
    if (current == nullptr && rules.empty()) continue;
    role["rules"] = std::move(rules);
    WriteOptions wo;
    wo.fieldManager = "clusterrole-aggregation-controller";
    wo.requester = {"system:apiserver", {"system:masters"}, "", {}};
    // A conflict means the role changed meanwhile; its event triggers another pass.
    (void)registry_->update(rt, "", target->name, std::move(role), wo);
  }
}

}  // namespace berth::apiserver
