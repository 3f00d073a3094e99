// NamespaceLifecycle (upstream plugin/pkg/admission/namespace/lifecycle): the first plugin, so a
// create in a namespace that does not exist is 404 `namespaces "x" not found`, and one in a
// terminating namespace 403, before any other plugin spends work on it (ServiceAccount would
// otherwise wait for a `default` account that never comes). The registry repeats the check
// right before it writes (Registry::checkNamespace).
#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {

namespace {

class NamespaceLifecycle : public Plugin {
 public:
  explicit NamespaceLifecycle(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "NamespaceLifecycle"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !a.resource->namespaced || a.ns.empty() ||
        !a.subresource.empty())
      return {};
    static const auto* nsType = core::findResource("", "v1", "namespaces");
    auto ns = reader_.get(*nsType, "", a.ns);
    if (!ns) return core::Status::notFound("namespaces", a.ns);
    const auto* meta = objectField(*ns, "metadata");
    if (meta && meta->contains("deletionTimestamp")) {
      return core::Status::forbidden("unable to create new content in namespace " + a.ns +
                                     " because it is being terminated")
          .withDetails(a.ns, "", "namespaces");
    }
    return {};
  }

 private:
  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newNamespaceLifecycle(const ObjectReader& reader) {
  return std::make_unique<NamespaceLifecycle>(reader);
}

}  // namespace berth::apiserver::admission
