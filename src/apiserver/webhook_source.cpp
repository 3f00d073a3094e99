#include "apiserver/webhook_source.h"

#include <algorithm>
#include <mutex>

#include "apiserver/authz/selector_attributes.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace {

namespace json = boost::json;
using core::arrayField;

const core::ResourceType& typeOf(const char* group, const char* version, const char* plural) {
  return *core::findResource(group, version, plural);
}

int portNumber(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<int>() : 0;
}

bool conditionReady(const json::object& endpoint) {
  const json::object* c = core::objectField(endpoint, "conditions");
  auto* ready = c ? c->if_contains("ready") : nullptr;
  return !ready || !ready->is_bool() || ready->as_bool();  // unset means ready (upstream)
}

class RegistryWebhookSource : public admission::WebhookSource {
 public:
  RegistryWebhookSource(Registry& registry, std::function<const authz::Authorizer*()> authorizer)
      : registry_(registry), authorizer_(std::move(authorizer)) {}

  // Upstream's authorizer library: an AttributesRecord for the requester (or, after
  // serviceAccount(), for that service account) asked of the server's authorizer.
  cel::AuthzDecision authorize(const core::kinds::Requester& user,
                               const cel::AuthzCheck& check) override {
    const authz::Authorizer* az = authorizer_ ? authorizer_() : nullptr;
    if (!az) return {false, "", "no authorizer configured"};
    authz::Attributes attrs;
    if (check.saName.empty()) {
      attrs.user = http::UserInfo{user.name, user.groups, user.uid, user.extra};
    } else {
      attrs.user.name = "system:serviceaccount:" + check.saNamespace + ":" + check.saName;
      attrs.user.groups = {"system:serviceaccounts", "system:serviceaccounts:" + check.saNamespace};
    }
    attrs.verb = check.verb;
    attrs.resourceRequest = check.resourceRequest;
    attrs.apiGroup = check.group;
    attrs.resource = check.resource;
    attrs.subresource = check.subresource;
    attrs.ns = check.ns;
    attrs.name = check.name;
    attrs.path = check.path;
    attrs.fieldSelector = check.fieldSelector;
    attrs.labelSelector = check.labelSelector;
    authz::parseSelectors(attrs);
    authz::Verdict v = az->authorize(attrs);
    return {v.allowed(), v.reason, ""};
  }

  // Decoded once per change: the cached list is reused while the watch cache holds the same
  // objects at the same resourceVersions (the common case: none at all, or a few that rarely
  // change), so a write no longer pays a decode of every configuration.
  std::shared_ptr<const std::vector<json::object>> configurations(bool mutating) override {
    const auto& rt =
        typeOf("admissionregistration.k8s.io", "v1",
               mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations");
    ListRequest req;
    req.resourceVersion = "0";
    auto r = registry_.list(rt, req);
    if (!r.ok()) return emptyConfigurations();
    if (r->items.empty()) return emptyConfigurations();
    Versions versions;
    versions.reserve(r->items.size());
    for (const auto& item : r->items) versions.emplace_back(item->key, item->resourceVersion);
    DecodedConfigurations& decoded = decoded_[mutating ? 1 : 0];
    {
      std::lock_guard lock(decodedMu_);
      if (decoded.list && decoded.versions == versions) return decoded.list;
    }
    auto items = std::make_shared<std::vector<json::object>>();
    for (const auto& item : r->items) items->push_back(registry_.toServed(rt, *item));
    std::sort(items->begin(), items->end(),
              [](const json::object& a, const json::object& b) { return nameOf(a) < nameOf(b); });
    std::lock_guard lock(decodedMu_);
    decoded = {std::move(versions), items};
    return items;
  }

  std::optional<core::Labels> namespaceLabels(const std::string& ns) override {
    const auto& rt = typeOf("", "v1", "namespaces");
    auto r = registry_.get(rt, "", ns);
    if (!r.ok()) return std::nullopt;
    return (*r)->labels;
  }

  core::Result<std::pair<std::string, int>> serviceEndpoint(const std::string& ns,
                                                            const std::string& name,
                                                            int port) override {
    auto svc = registry_.get(typeOf("", "v1", "services"), ns, name);
    if (!svc.ok()) return svc.status();
    json::object service = registry_.toServed(typeOf("", "v1", "services"), **svc);
    const json::object* spec = core::objectField(service, "spec");
    const json::array* ports = spec ? arrayField(*spec, "ports") : nullptr;
    const json::object* svcPort = nullptr;
    for (size_t i = 0; ports && i < ports->size(); ++i) {
      if ((*ports)[i].is_object() && portNumber((*ports)[i].as_object(), "port") == port)
        svcPort = &(*ports)[i].as_object();
    }
    if (!svcPort) {
      return core::Status::notFound("services", name + ": no port " + std::to_string(port));
    }
    std::string portName = core::stringField(*svcPort, "name");
    for (const auto& slice : listCached(typeOf("discovery.k8s.io", "v1", "endpointslices"), ns,
                                        "kubernetes.io/service-name=" + name)) {
      int target = 0;
      const json::array* sp = arrayField(slice, "ports");
      for (size_t i = 0; sp && i < sp->size(); ++i) {
        if ((*sp)[i].is_object() && core::stringField((*sp)[i].as_object(), "name") == portName)
          target = portNumber((*sp)[i].as_object(), "port");
      }
      const json::array* eps = arrayField(slice, "endpoints");
      for (size_t i = 0; target && eps && i < eps->size(); ++i) {
        if (!(*eps)[i].is_object() || !conditionReady((*eps)[i].as_object())) continue;
        const json::array* addrs = arrayField((*eps)[i].as_object(), "addresses");
        if (addrs && !addrs->empty() && (*addrs)[0].is_string())
          return std::make_pair(std::string((*addrs)[0].as_string()), target);
      }
    }
    if (auto ep = fromEndpoints(ns, name, portName); ep.ok()) return ep;
    return core::Status::unavailable("service \"" + ns + "/" + name +
                                     "\" has no ready endpoint for port " + std::to_string(port));
  }

 private:
  static std::string nameOf(const json::object& o) {
    const json::object* m = core::objectField(o, "metadata");
    return m ? core::stringField(*m, "name") : "";
  }

  std::vector<json::object> listCached(const core::ResourceType& rt, const std::string& ns,
                                       const std::string& labelSelector) {
    ListRequest req;
    req.namespace_ = ns;
    req.labelSelector = labelSelector;
    req.resourceVersion = "0";
    std::vector<json::object> out;
    auto r = registry_.list(rt, req);
    if (!r.ok()) return out;
    for (const auto& item : r->items) out.push_back(registry_.toServed(rt, *item));
    return out;
  }

  core::Result<std::pair<std::string, int>> fromEndpoints(const std::string& ns,
                                                          const std::string& name,
                                                          const std::string& portName) {
    const auto& rt = typeOf("", "v1", "endpoints");
    auto r = registry_.get(rt, ns, name);
    if (!r.ok()) return r.status();
    json::object eps = registry_.toServed(rt, **r);
    const json::array* subsets = arrayField(eps, "subsets");
    for (size_t i = 0; subsets && i < subsets->size(); ++i) {
      if (!(*subsets)[i].is_object()) continue;
      const json::object& s = (*subsets)[i].as_object();
      int target = 0;
      const json::array* sp = arrayField(s, "ports");
      for (size_t j = 0; sp && j < sp->size(); ++j) {
        if ((*sp)[j].is_object() && core::stringField((*sp)[j].as_object(), "name") == portName)
          target = portNumber((*sp)[j].as_object(), "port");
      }
      const json::array* addrs = arrayField(s, "addresses");
      if (target && addrs && !addrs->empty() && (*addrs)[0].is_object())
        return std::make_pair(core::stringField((*addrs)[0].as_object(), "ip"), target);
    }
    return core::Status::notFound("endpoints", name);
  }

  static std::shared_ptr<const std::vector<json::object>> emptyConfigurations() {
    static const auto empty = std::make_shared<const std::vector<json::object>>();
    return empty;
  }

  // Which objects (storage key, resourceVersion) a decoded list was made from.
  using Versions = std::vector<std::pair<std::string, int64_t>>;
  struct DecodedConfigurations {
    Versions versions;
    std::shared_ptr<const std::vector<json::object>> list;
  };

  Registry& registry_;
  std::function<const authz::Authorizer*()> authorizer_;
  std::mutex decodedMu_;
  DecodedConfigurations decoded_[2];  // validating, mutating; guarded by decodedMu_
};

}  // namespace

std::shared_ptr<admission::WebhookSource> newRegistryWebhookSource(
    Registry& registry, std::function<const authz::Authorizer*()> authorizer) {
  return std::make_shared<RegistryWebhookSource>(registry, std::move(authorizer));
}

}  // namespace berth::apiserver
