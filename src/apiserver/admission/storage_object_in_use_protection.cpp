// StorageObjectInUseProtection (upstream
// plugin/pkg/admission/storage/storageobjectinuseprotection): every PersistentVolumeClaim created
// gets the finalizer kubernetes.io/pvc-protection and every PersistentVolume
// kubernetes.io/pv-protection, so a delete only marks them Terminating until the pvc-protection /
// pv-protection controllers see that nothing uses them any more and take the finalizer off. Creates
// only (upstream's Handler(admission.Create)); subresources are left alone; a finalizer already
// present is not added twice.
#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

constexpr const char* kPvcProtectionFinalizer = "kubernetes.io/pvc-protection";
constexpr const char* kPvProtectionFinalizer = "kubernetes.io/pv-protection";

void addFinalizer(json::object& obj, std::string_view finalizer) {
  auto& finalizers = ensureArray(ensureObject(obj, "metadata"), "finalizers");
  for (const auto& f : finalizers)
    if (f.is_string() && f.as_string() == finalizer) return;
  finalizers.emplace_back(finalizer);
}

class StorageObjectInUseProtection : public Plugin {
 public:
  std::string_view name() const override { return "StorageObjectInUseProtection"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !a.object) return {};
    if (isResource(a, "", "persistentvolumeclaims"))
      addFinalizer(*a.object, kPvcProtectionFinalizer);
    else if (isResource(a, "", "persistentvolumes"))
      addFinalizer(*a.object, kPvProtectionFinalizer);
    return {};
  }
};

}  // namespace

std::unique_ptr<Plugin> newStorageObjectInUseProtection() {
  return std::make_unique<StorageObjectInUseProtection>();
}

}  // namespace berth::apiserver::admission
