// DefaultStorageClass (upstream plugin/pkg/admission/storage/storageclass/setdefault): a
// PersistentVolumeClaim created without spec.storageClassName (absent, not "") and without the
// beta volume.beta.kubernetes.io/storage-class annotation gets the default StorageClass: the
// one annotated storageclass.kubernetes.io/is-default-class "true" (or the beta annotation);
// of several, the newest, ties broken by name, as upstream since 1.26. No default: unchanged.
#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

constexpr const char* kDefaultAnnotation = "storageclass.kubernetes.io/is-default-class";
constexpr const char* kBetaDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class";
constexpr const char* kBetaClassAnnotation = "volume.beta.kubernetes.io/storage-class";

const core::ResourceType& storageClasses() {
  static const auto* rt = core::findResource("storage.k8s.io", "v1", "storageclasses");
  return *rt;
}

bool isDefaultClass(const json::object& cls) {
  const auto* meta = objectField(cls, "metadata");
  const auto* ann = meta ? objectField(*meta, "annotations") : nullptr;
  return ann && (stringField(*ann, kDefaultAnnotation) == "true" ||
                 stringField(*ann, kBetaDefaultAnnotation) == "true");
}

class DefaultStorageClass : public Plugin {
 public:
  explicit DefaultStorageClass(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "DefaultStorageClass"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !isResource(a, "", "persistentvolumeclaims") ||
        !a.object)
      return {};
    auto& spec = ensureObject(*a.object, "spec");
    if (spec.contains("storageClassName") && !spec.at("storageClassName").is_null()) return {};
    if (const auto* meta = objectField(*a.object, "metadata"))
      if (const auto* ann = objectField(*meta, "annotations"))
        if (ann->contains(kBetaClassAnnotation)) return {};
    std::string chosen, chosenCreated;
    for (const auto& cls : reader_.list(storageClasses(), "")) {
      if (!isDefaultClass(*cls)) continue;
      const auto* meta = objectField(*cls, "metadata");
      std::string name = stringField(*meta, "name");
      std::string created = stringField(*meta, "creationTimestamp");  // RFC 3339 sorts as text
      if (chosen.empty() || created > chosenCreated ||
          (created == chosenCreated && name < chosen)) {
        chosen = name;
        chosenCreated = created;
      }
    }
    if (!chosen.empty()) spec["storageClassName"] = chosen;
    return {};
  }

 private:
  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newDefaultStorageClass(const ObjectReader& reader) {
  return std::make_unique<DefaultStorageClass>(reader);
}

}  // namespace berth::apiserver::admission
