#pragma once
// The API server's authorization setup (issue 9): the authorizers named by
// --authorization-mode (Node, RBAC, AlwaysAllow; system:masters is always allowed first, as
// upstream's privileged-group authorizer), fed from the watch cache; the bootstrap RBAC policy
// reconciled on start (rbac_bootstrap.cpp); and the clusterrole-aggregation loop that fills
// aggregated ClusterRoles from the roles their selectors match.
//
// Lifecycle: construct before the cache starts (it registers cache observers), start() once the
// registry serves, stop() before the registry goes. Thread-safety: authorizer() is used from
// request threads; the aggregation loop runs on its own thread and writes through the registry.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "apiserver/watch_cache.h"
#include "core/status.h"

namespace berth::apiserver {

class Registry;
namespace authz {
class NodeGraph;
}

class Authorization {
 public:
  // `modes`: "Node", "RBAC", "AlwaysAllow" (upstream's names), in chain order. Unknown modes are
  // an error from validateModes().
  Authorization(std::vector<std::string> modes, CacheSet& cache);
  ~Authorization();
  static core::Status validateModes(const std::vector<std::string>& modes);

  // Null when authorization is off (AlwaysAllow alone).
  const authz::Authorizer* authorizer() const { return chain_.get(); }
  // Null unless RBAC is on.
  const authz::RbacAuthorizer* rbac() const { return rbac_; }

  // Reconciles the bootstrap policy and starts the aggregation loop.
  core::Status start(Registry& registry);
  void stop();

 private:
  class CacheSource;
  void aggregationLoop();
  void aggregateOnce();

  std::vector<std::string> modes_;
  CacheSet& cache_;
  std::unique_ptr<CacheSource> source_;
  std::unique_ptr<authz::NodeGraph> nodeGraph_;
  std::unique_ptr<authz::ChainAuthorizer> chain_;
  const authz::RbacAuthorizer* rbac_ = nullptr;
  Registry* registry_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool clusterRolesChanged_ = true;
  bool stopping_ = false;
  std::thread aggregator_;
};

// Creates missing bootstrap roles and bindings and adds missing rules, labels and subjects to
// existing ones unless annotated rbac.authorization.k8s.io/autoupdate=false (upstream's
// auto-reconciliation on start).
core::Status reconcileBootstrapPolicy(Registry& registry);

}  // namespace berth::apiserver
