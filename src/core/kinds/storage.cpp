// Storage kinds: core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1
// StorageClass, CSIDriver, CSINode and VolumeAttachment. Defaults and the validation essentials of
// upstream pkg/apis/core/v1/defaults.go, pkg/apis/storage/v1/defaults.go,
// pkg/apis/core/validation (ValidatePersistentVolume*, 1.32) and pkg/apis/storage/validation.
#include "core/kinds/internal.h"
#include "core/kinds/more_kinds.h"

namespace berth::core::kinds::detail {
namespace {

// ---- access modes, reclaim policies, volume sources ------------------------------------------

const std::vector<std::string> kAccessModes = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                               "ReadWriteOncePod"};

void validateAccessModes(const json::object& spec, const std::string& path, FieldErrors& errs,
                         std::string_view requiredDetail) {
  const json::array* modes = getArr(spec, "accessModes");
  if (modes == nullptr || modes->empty()) {
    addRequired(errs, path, requiredDetail);
    return;
  }
  bool rwop = false;
  for (const auto& m : *modes) {
    std::string_view mode = m.is_string() ? std::string_view(m.get_string()) : "";
    if (std::find(kAccessModes.begin(), kAccessModes.end(), mode) == kAccessModes.end()) {
      addNotSupported(errs, path, goQuote(mode), kAccessModes);
    }
    rwop = rwop || mode == "ReadWriteOncePod";
  }
  if (rwop && modes->size() > 1) {
    addForbidden(errs, path, "may not use ReadWriteOncePod with other access modes");
  }
}

void validateVolumeMode(const json::object& spec, const std::string& path, FieldErrors& errs) {
  if (!hasStr(spec, "volumeMode")) return;
  std::string_view mode = getStr(spec, "volumeMode");
  if (mode != "Block" && mode != "Filesystem") {
    addNotSupported(errs, path, goQuote(mode), {"Block", "Filesystem"});
  }
}

// The volume source fields a PersistentVolumeSpec may carry (exactly one).
constexpr std::string_view kPvSources[] = {"gcePersistentDisk",
                                           "awsElasticBlockStore",
                                           "hostPath",
                                           "glusterfs",
                                           "nfs",
                                           "rbd",
                                           "iscsi",
                                           "cinder",
                                           "cephfs",
                                           "fc",
                                           "flocker",
                                           "flexVolume",
                                           "azureFile",
                                           "vsphereVolume",
                                           "quobyte",
                                           "azureDisk",
                                           "photonPersistentDisk",
                                           "portworxVolume",
                                           "scaleIO",
                                           "local",
                                           "storageos",
                                           "csi"};

void validateStorageRequest(const json::object* list, const std::string& path, FieldErrors& errs) {
  const json::value* storage = list != nullptr ? getVal(*list, "storage") : nullptr;
  if (storage == nullptr || storage->is_null()) {
    addRequired(errs, key(path, "storage"));
    return;
  }
  validateResourceList(list, path, errs);
}

// ---- PersistentVolume -------------------------------------------------------------------------

void pvDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
  setDefault(spec, "volumeMode", "Filesystem");
  setDefault(ensureObj(obj, "status"), "phase", "Pending");
}

void pvValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateAccessModes(spec, "spec.accessModes", errs, "");
  const json::object* capacity = getObj(spec, "capacity");
  if (capacity == nullptr || capacity->empty()) {
    addRequired(errs, "spec.capacity");
  } else {
    validateStorageRequest(capacity, "spec.capacity", errs);
  }
  std::string_view policy = getStr(spec, "persistentVolumeReclaimPolicy");
  if (!policy.empty() && policy != "Delete" && policy != "Recycle" && policy != "Retain") {
    addNotSupported(errs, "spec.persistentVolumeReclaimPolicy", goQuote(policy),
                    {"Delete", "Recycle", "Retain"});
  }
  int sources = 0;
  for (std::string_view s : kPvSources) {
    if (getObj(spec, s) == nullptr) continue;
    if (++sources > 1) {
      addForbidden(errs, child("spec", s), "may not specify more than 1 volume type");
    }
  }
  if (sources == 0) addRequired(errs, "spec", "must specify a volume type");
  if (const json::object* hp = getObj(spec, "hostPath"); hp && getStr(*hp, "path").empty()) {
    addRequired(errs, "spec.hostPath.path");
  }
  if (const json::object* csi = getObj(spec, "csi")) {
    if (getStr(*csi, "driver").empty()) addRequired(errs, "spec.csi.driver");
    if (getStr(*csi, "volumeHandle").empty()) addRequired(errs, "spec.csi.volumeHandle");
  }
  validateVolumeMode(spec, "spec.volumeMode", errs);
}

void pvValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object& oldSpec = specOf(old);
  validateImmutable(getVal(spec, "volumeMode"), getVal(oldSpec, "volumeMode"), "spec.volumeMode",
                    errs);
  for (std::string_view s : kPvSources) {
    if (!sameJson(getVal(spec, s), getVal(oldSpec, s))) {
      addForbidden(errs, "spec.persistentvolumesource",
                   "spec.persistentvolumesource is immutable after creation");
      break;
    }
  }
}

// ---- PersistentVolumeClaim --------------------------------------------------------------------

void pvcDefaults(json::object& obj) {
  setDefault(ensureObj(obj, "spec"), "volumeMode", "Filesystem");
  setDefault(ensureObj(obj, "status"), "phase", "Pending");
}

void pvcValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateAccessModes(spec, "spec.accessModes", errs, "at least 1 access mode is required");
  const json::object* resources = getObj(spec, "resources");
  validateStorageRequest(resources ? getObj(*resources, "requests") : nullptr, "spec.resources",
                         errs);
  if (const json::object* sel = getObj(spec, "selector")) {
    validateLabelSelector(*sel, "spec.selector", errs);
  }
  validateVolumeMode(spec, "spec.volumeMode", errs);
  if (hasStr(spec, "storageClassName")) {
    std::string_view sc = getStr(spec, "storageClassName");
    if (!sc.empty()) {
      for (const auto& m : isDns1123Subdomain(sc)) {
        addInvalidStr(errs, "spec.storageClassName", sc, m);
      }
    }
  }
}

void pvcValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  // Upstream lets a claim change only resources.requests (expansion), volumeAttributesClassName
  // and, while unbound, volumeName; everything else in spec is fixed at creation.
  json::object a = specOf(obj), b = specOf(old);
  for (json::object* s : {&a, &b}) {
    if (json::object* r = getObjMut(*s, "resources")) r->erase("requests");
    s->erase("volumeAttributesClassName");
    if (getStr(b, "volumeName").empty()) s->erase("volumeName");
  }
  json::value av = a, bv = b;
  if (!sameJson(&av, &bv)) {
    addForbidden(errs, "spec",
                 "spec is immutable after creation except resources.requests and "
                 "volumeAttributesClassName for bound claims");
  }
}

// ---- StorageClass -----------------------------------------------------------------------------

void storageClassDefaults(json::object& obj) {
  setDefault(obj, "reclaimPolicy", "Delete");
  setDefault(obj, "volumeBindingMode", "Immediate");
}

void storageClassValidate(const json::object& obj, FieldErrors& errs) {
  std::string_view provisioner = getStr(obj, "provisioner");
  if (provisioner.empty()) {
    addRequired(errs, "provisioner");
  } else {
    for (const auto& m : isQualifiedName(provisioner))
      addInvalidStr(errs, "provisioner", provisioner, m);
  }
  std::string_view policy = getStr(obj, "reclaimPolicy");
  if (!policy.empty() && policy != "Delete" && policy != "Retain") {
    addNotSupported(errs, "reclaimPolicy", goQuote(policy), {"Delete", "Retain"});
  }
  std::string_view mode = getStr(obj, "volumeBindingMode");
  if (!mode.empty() && mode != "Immediate" && mode != "WaitForFirstConsumer") {
    addNotSupported(errs, "volumeBindingMode", goQuote(mode),
                    {"Immediate", "WaitForFirstConsumer"});
  }
  if (const json::object* params = getObj(obj, "parameters"); params && params->size() > 512) {
    addTooLong(errs, "parameters", 512);
  }
}

void storageClassValidateUpdate(const json::object& obj, const json::object& old,
                                FieldErrors& errs) {
  for (std::string_view f : {"parameters", "provisioner", "reclaimPolicy"}) {
    if (!sameJson(getVal(obj, f), getVal(old, f))) {
      addForbidden(errs, std::string(f), "updates to " + std::string(f) + " are forbidden.");
    }
  }
  validateImmutable(getVal(obj, "volumeBindingMode"), getVal(old, "volumeBindingMode"),
                    "volumeBindingMode", errs);
}

// ---- CSIDriver --------------------------------------------------------------------------------

void csiDriverDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "attachRequired", true);
  setDefault(spec, "podInfoOnMount", false);
  setDefault(spec, "storageCapacity", false);
  setDefault(spec, "requiresRepublish", false);
  setDefault(spec, "seLinuxMount", false);
  setDefault(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  const json::array* modes = getArr(spec, "volumeLifecycleModes");
  if (modes == nullptr || modes->empty()) spec["volumeLifecycleModes"] = json::array{"Persistent"};
}

void csiDriverValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  std::string_view policy = getStr(spec, "fsGroupPolicy");
  if (!policy.empty() && policy != "ReadWriteOnceWithFSType" && policy != "File" &&
      policy != "None") {
    addNotSupported(errs, "spec.fsGroupPolicy", goQuote(policy),
                    {"File", "None", "ReadWriteOnceWithFSType"});
  }
  const json::array* modes = getArr(spec, "volumeLifecycleModes");
  for (size_t i = 0; modes && i < modes->size(); ++i) {
    std::string_view m = (*modes)[i].is_string() ? std::string_view((*modes)[i].get_string()) : "";
    if (m != "Persistent" && m != "Ephemeral") {
      addNotSupported(errs, "spec.volumeLifecycleModes", goQuote(m), {"Ephemeral", "Persistent"});
    }
  }
  const json::array* tokens = getArr(spec, "tokenRequests");
  for (size_t i = 0; tokens && i < tokens->size(); ++i) {
    const json::object* t = (*tokens)[i].if_object();
    if (t == nullptr) continue;
    if (auto secs = getInt(*t, "expirationSeconds"); secs && *secs < 600) {
      addInvalidInt(errs, child(index("spec.tokenRequests", i), "expirationSeconds"), *secs,
                    "may not specify a duration less than 10 minutes");
    }
  }
}

void csiDriverValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  for (std::string_view f : {"attachRequired", "fsGroupPolicy", "volumeLifecycleModes"}) {
    validateImmutable(getVal(specOf(obj), f), getVal(specOf(old), f), child("spec", f), errs);
  }
}

// ---- CSINode ----------------------------------------------------------------------------------

void csiNodeValidate(const json::object& obj, FieldErrors& errs) {
  const json::array* drivers = getArr(specOf(obj), "drivers");
  std::vector<std::string_view> seen;
  for (size_t i = 0; drivers && i < drivers->size(); ++i) {
    const json::object* d = (*drivers)[i].if_object();
    if (d == nullptr) continue;
    std::string p = index("spec.drivers", i);
    std::string_view name = getStr(*d, "name");
    if (name.empty()) {
      addRequired(errs, child(p, "name"));
    } else if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      addDuplicate(errs, child(p, "name"), goQuote(name));
    }
    seen.push_back(name);
    if (getStr(*d, "nodeID").empty()) addRequired(errs, child(p, "nodeID"));
  }
}

// ---- VolumeAttachment -------------------------------------------------------------------------

void volumeAttachmentValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  if (getStr(spec, "attacher").empty()) addRequired(errs, "spec.attacher");
  if (getStr(spec, "nodeName").empty()) addRequired(errs, "spec.nodeName");
  const json::object* source = getObj(spec, "source");
  int n = source == nullptr ? 0
                            : (hasStr(*source, "persistentVolumeName") ? 1 : 0) +
                                  (getObj(*source, "inlineVolumeSpec") ? 1 : 0);
  if (n != 1) {
    addRequired(errs, "spec.source",
                "must specify exactly one of inlineVolumeSpec and persistentVolumeName");
  }
}

void volumeAttachmentValidateUpdate(const json::object& obj, const json::object& old,
                                    FieldErrors& errs) {
  if (!sameJson(getVal(obj, "spec"), getVal(old, "spec"))) {
    const json::value* spec = getVal(obj, "spec");
    addInvalid(errs, "spec", spec ? formatValue(*spec) : "null", "field is immutable");
  }
}

}  // namespace

const KindOps* storageOps(std::string_view group, std::string_view kind) {
  static const KindOps pv = makeOps([](KindOps& o) {
    o.defaults = pvDefaults;
    o.validate = pvValidate;
    o.validateUpdate = pvValidateUpdate;
  });
  static const KindOps pvc = makeOps([](KindOps& o) {
    o.defaults = pvcDefaults;
    o.validate = pvcValidate;
    o.validateUpdate = pvcValidateUpdate;
  });
  static const KindOps storageClass = makeOps([](KindOps& o) {
    o.defaults = storageClassDefaults;
    o.validate = storageClassValidate;
    o.validateUpdate = storageClassValidateUpdate;
  });
  static const KindOps csiDriver = makeOps([](KindOps& o) {
    o.defaults = csiDriverDefaults;
    o.validate = csiDriverValidate;
    o.validateUpdate = csiDriverValidateUpdate;
  });
  static const KindOps csiNode = makeOps([](KindOps& o) { o.validate = csiNodeValidate; });
  static const KindOps volumeAttachment = makeOps([](KindOps& o) {
    o.validate = volumeAttachmentValidate;
    o.validateUpdate = volumeAttachmentValidateUpdate;
  });
  if (group.empty() && kind == "PersistentVolume") return &pv;
  if (group.empty() && kind == "PersistentVolumeClaim") return &pvc;
  if (group != "storage.k8s.io") return nullptr;
  if (kind == "StorageClass") return &storageClass;
  if (kind == "CSIDriver") return &csiDriver;
  if (kind == "CSINode") return &csiNode;
  if (kind == "VolumeAttachment") return &volumeAttachment;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
