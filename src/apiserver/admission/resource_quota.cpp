#include "apiserver/admission/resource_quota.h"

#include <algorithm>

#include "core/json_access.h"
#include "core/quota_usage.h"

namespace berth::apiserver::admission {

namespace {

namespace json = boost::json;
using core::quota::ResourceList;

// Retries of the optimistic update before giving up; each round at least one racing writer
// wins, so this bounds the requests racing for one namespace's quota, not the total.
constexpr int kMaxAttempts = 32;

ResourceList statusList(const json::object& quota, std::string_view which) {
  const json::object* status = core::objectField(quota, "status");
  return core::quota::parseResourceList(status ? core::objectField(*status, which) : nullptr);
}

std::string nameOf(const json::object& obj) {
  const json::object* meta = core::objectField(obj, "metadata");
  return meta ? core::stringField(*meta, "name") : "";
}

// Upstream's admission.NewForbidden: `configmaps "c" is forbidden: <why>`.
core::Status forbidden(const Attributes& a, const std::string& why) {
  std::string resource = a.resource->qualifiedResource();
  std::string msg = a.name.empty() ? resource + " is forbidden: " + why
                                   : resource + " \"" + a.name + "\" is forbidden: " + why;
  return core::Status::forbidden(std::move(msg))
      .withDetails(a.name, a.resource->group, a.resource->plural);
}

class ResourceQuotaPlugin : public Plugin {
 public:
  explicit ResourceQuotaPlugin(std::shared_ptr<QuotaAccess> access) : access_(std::move(access)) {}
  std::string_view name() const override { return "ResourceQuota"; }

  core::Status validate(const Attributes& a) override {
    if (!a.subresource.empty() || !a.object || !a.resource->namespaced || a.ns.empty()) return {};
    const std::string& group = a.resource->group;
    const std::string& plural = a.resource->plural;
    if (a.operation == Operation::kUpdate && !core::quota::chargesOnUpdate(group, plural))
      return {};
    if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return {};
    // The namespace's quotas first: without any (the common case) the usage is never computed.
    std::vector<json::object> pending = access_->list(a.ns);
    if (pending.empty()) return {};
    ResourceList delta = core::quota::usage(group, plural, *a.object);
    if (a.operation == Operation::kUpdate && a.oldObject) {
      // Only growth is charged; what shrinks comes back when the controller recounts.
      ResourceList prev = core::quota::usage(group, plural, *a.oldObject);
      for (auto it = delta.begin(); it != delta.end();) {
        auto p = prev.find(it->first);
        if (p != prev.end()) it->second -= p->second;
        it = (it->second.isZero() || it->second.negative()) ? delta.erase(it) : std::next(it);
      }
    }
    if (delta.empty()) return {};
    std::sort(pending.begin(), pending.end(),
              [](const json::object& x, const json::object& y) { return nameOf(x) < nameOf(y); });
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      std::vector<json::object> charged;
      if (auto st = check(a, delta, pending, charged); !st.ok()) return st;
      if (a.dryRun) return {};
      // Write each charged quota; those that lost a race are re-read and checked again (the
      // ones written stay charged, as upstream's checkQuotas retries only the failed ones).
      std::vector<json::object> failed;
      for (auto& q : charged) {
        auto st = access_->updateStatus(q);
        if (st.ok()) continue;
        if (!st.isConflict()) return st;
        auto fresh = access_->get(a.ns, nameOf(q));
        if (fresh.ok())
          failed.push_back(std::move(*fresh));
        else if (!fresh.status().isNotFound())
          return fresh.status();
      }
      if (failed.empty()) return {};
      pending = std::move(failed);
    }
    return core::Status::internal("resource quota evaluation timed out");
  }

 private:
  // Upstream's CheckRequest over `quotas`: an error, or in `charged` the matching quotas with
  // the request's usage added to status.used.
  core::Status check(const Attributes& a, const ResourceList& delta,
                     const std::vector<json::object>& quotas, std::vector<json::object>& charged) {
    const std::string& group = a.resource->group;
    const std::string& plural = a.resource->plural;
    for (const auto& quota : quotas) {
      if (!core::quota::quotaMatches(quota, group, plural, *a.object)) continue;
      std::string qname = nameOf(quota);
      ResourceList hard = statusList(quota, "hard"), used = statusList(quota, "used");
      std::vector<std::string> restricted =
          core::quota::matchingResources(group, plural, core::quota::names(hard));
      std::string missing = core::quota::missingConstraints(group, plural, *a.object, restricted);
      if (!missing.empty()) return forbidden(a, "failed quota: " + qname + ": " + missing);
      std::vector<std::string> unknown;
      for (const auto& r : restricted) {
        if (!used.count(r)) unknown.push_back(r);
      }
      if (!unknown.empty()) {
        std::sort(unknown.begin(), unknown.end());
        std::string list;
        for (const auto& u : unknown) list += (list.empty() ? "" : ",") + u;
        return forbidden(a, "status unknown for quota: " + qname + ", resources: " + list);
      }
      ResourceList requested = core::quota::mask(delta, core::quota::names(hard));
      if (requested.empty()) continue;
      ResourceList newUsed = used;
      std::vector<std::string> exceeded;
      for (const auto& [r, q] : requested) {
        newUsed[r] += q;
        if (hard.at(r) < newUsed[r]) exceeded.push_back(r);
      }
      if (!exceeded.empty()) {
        return forbidden(
            a, "exceeded quota: " + qname + ", requested: " +
                   core::quota::prettyPrint(core::quota::mask(requested, exceeded)) +
                   ", used: " + core::quota::prettyPrint(core::quota::mask(used, exceeded)) +
                   ", limited: " + core::quota::prettyPrint(core::quota::mask(hard, exceeded)));
      }
      json::object next = quota;
      auto& status = next["status"];
      if (!status.is_object()) status = json::object();
      status.as_object()["used"] = core::quota::toJson(newUsed);
      charged.push_back(std::move(next));
    }
    return {};
  }

  std::shared_ptr<QuotaAccess> access_;
};

}  // namespace

std::unique_ptr<Plugin> newResourceQuota(std::shared_ptr<QuotaAccess> access) {
  return std::make_unique<ResourceQuotaPlugin>(std::move(access));
}

}  // namespace berth::apiserver::admission
