#pragma once
// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac): Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings read from a PolicySource (the API server's watch cache),
// compiled into a snapshot indexed by subject, so a check costs a few hash lookups plus the
// rules of the bindings that name the user or one of its groups.
//
// The snapshot is rebuilt lazily when the source's generation moves (any RBAC object changed);
// RBAC objects change rarely, requests are many. Like upstream's informer-fed authorizer it is
// eventually consistent: a binding takes effect once the watch cache has seen it.
//
// Thread-safety: authorize() and rulesFor() are called concurrently from request threads; the
// snapshot is immutable and swapped atomically.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac_rules.h"

namespace berth::apiserver::authz {

// Where RBAC objects come from.
class PolicySource {
 public:
  enum class Kind { kRole, kClusterRole, kRoleBinding, kClusterRoleBinding };
  virtual ~PolicySource() = default;
  // Calls `fn` with the JSON of every current object of `kind`.
  virtual void forEach(Kind kind, const std::function<void(std::string_view json)>& fn) const = 0;
  // Moves whenever any RBAC object changes.
  virtual uint64_t generation() const = 0;
};

class RbacAuthorizer : public Authorizer {
 public:
  explicit RbacAuthorizer(const PolicySource& source) : source_(source) {}
  Verdict authorize(const Attributes& a) const override;
  void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const override;

  // The rules that apply to `user` in namespace `ns` ("" = cluster-wide bindings only), for
  // SelfSubjectRulesReview and escalation checks. `errors` gets upstream's messages for bindings
  // whose role is missing.
  std::vector<PolicyRule> heldRules(const http::UserInfo& user, const std::string& ns,
                                    std::vector<std::string>* errors = nullptr) const;
  // The rules of a role ("ClusterRole" or "Role" in `ns`); NotFound-style message in *error.
  bool roleRules(std::string_view kind, const std::string& ns, const std::string& name,
                 std::vector<PolicyRule>* out) const;

  struct Snapshot;

 private:
  std::shared_ptr<const Snapshot> snapshot() const;

  const PolicySource& source_;
  mutable std::mutex rebuildMu_;
  mutable std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

// Fixed objects, for tests and tools: add JSON texts, then bump().
class StaticPolicySource : public PolicySource {
 public:
  void add(Kind kind, std::string json) { objects_.emplace_back(kind, std::move(json)); ++gen_; }
  void clear() { objects_.clear(); ++gen_; }
  void forEach(Kind kind, const std::function<void(std::string_view)>& fn) const override {
    for (const auto& [k, j] : objects_)
      if (k == kind) fn(j);
  }
  uint64_t generation() const override { return gen_; }

 private:
  std::vector<std::pair<Kind, std::string>> objects_;
  uint64_t gen_ = 1;
};

}  // namespace berth::apiserver::authz
