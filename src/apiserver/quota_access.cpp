#include "apiserver/quota_access.h"

#include "core/json_access.h"

namespace berth::apiserver {

namespace {

namespace json = boost::json;

const core::ResourceType& quotaType() {
  static const core::ResourceType* rt = core::findResource("", "v1", "resourcequotas");
  return *rt;
}

class RegistryQuotaAccess : public admission::QuotaAccess {
 public:
  explicit RegistryQuotaAccess(Registry& registry) : registry_(registry) {}

  std::vector<json::object> list(const std::string& ns) override {
    ListRequest req;
    req.namespace_ = ns;
    req.resourceVersion = "0";  // what the cache has: the status write checks freshness
    std::vector<json::object> out;
    auto r = registry_.list(quotaType(), req);
    if (!r.ok()) return out;
    for (const auto& item : r->items) out.push_back(registry_.toServed(quotaType(), *item));
    return out;
  }

  core::Result<json::object> get(const std::string& ns, const std::string& name) override {
    auto r = registry_.get(quotaType(), ns, name);
    if (!r.ok()) return r.status();
    return registry_.toServed(quotaType(), **r);
  }

  core::Status updateStatus(const json::object& quota) override {
    const json::object* meta = core::objectField(quota, "metadata");
    if (!meta) return core::Status::internal("quota without metadata");
    WriteOptions opts;
    opts.subresource = "status";
    auto r = registry_.update(quotaType(), core::stringField(*meta, "namespace"),
                              core::stringField(*meta, "name"), quota, opts);
    return r.ok() ? core::Status() : r.status();
  }

 private:
  Registry& registry_;
};

}  // namespace

std::shared_ptr<admission::QuotaAccess> newRegistryQuotaAccess(Registry& registry) {
  return std::make_shared<RegistryQuotaAccess>(registry);
}

}  // namespace berth::apiserver
