// ServiceAccount (upstream plugin/pkg/admission/serviceaccount): a created pod runs as
// spec.serviceAccountName (`default` when unset), which must exist (403 `error looking up service
// account ns/name: serviceaccount "name" not found`); unless the pod or its ServiceAccount opts
// out (automountServiceAccountToken: false), every container and init container mounts the
// projected `kube-api-access-<random>` volume (a bound token, the cluster CA from the
// kube-root-ca.crt ConfigMap, the namespace) read-only at
// /var/run/secrets/kubernetes.io/serviceaccount. The ServiceAccount's imagePullSecrets are copied
// to a pod that has none. Mirror pods (static pods) may not reference ServiceAccounts.
#include <chrono>
#include <random>
#include <thread>

#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/service_account.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

json::object buildTokenVolumeSource() {
  return json::object{
      {"defaultMode", 420},
      {"sources",
       json::array{
           json::object{{"serviceAccountToken",
                         json::object{{"expirationSeconds", kTokenExpirationSeconds},
                                      {"path", "token"}}}},
           json::object{{"configMap",
                         json::object{{"name", "kube-root-ca.crt"},
                                      {"items", json::array{json::object{{"key", "ca.crt"},
                                                                         {"path", "ca.crt"}}}}}}},
           json::object{{"downwardAPI",
                         json::object{{"items",
                                       json::array{json::object{
                                           {"path", "namespace"},
                                           {"fieldRef",
                                            json::object{{"apiVersion", "v1"},
                                                         {"fieldPath", "metadata.namespace"}}}}}}}}}}}};
}

// Built once: every admitted pod gets a copy, made straight into the pod's own storage.
const json::object& tokenVolumePrototype() {
  static const json::object proto = buildTokenVolumeSource();
  return proto;
}

}  // namespace

json::object tokenVolumeSource() { return tokenVolumePrototype(); }

namespace {

constexpr std::string_view kMirrorAnnotation = "kubernetes.io/config.mirror";
constexpr std::string_view kVolumePrefix = "kube-api-access-";

// utilrand.String: 5 characters from an alphabet without vowels or look-alikes.
std::string randomSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string s;
  for (int i = 0; i < 5; ++i) s += kAlphabet[pick(rng)];
  return s;
}

bool isMirrorPod(const json::object& pod) {
  const auto* meta = objectField(pod, "metadata");
  const auto* ann = meta ? objectField(*meta, "annotations") : nullptr;
  return ann && ann->contains(kMirrorAnnotation);
}

// The pod's own setting wins; else the ServiceAccount's; else true.
bool shouldAutomount(const json::object& sa, const json::object& spec) {
  if (auto v = boolField(spec, "automountServiceAccountToken")) return *v;
  return boolField(sa, "automountServiceAccountToken").value_or(true);
}

void mountToken(json::object& spec) {
  std::string volumeName;
  if (const auto* vols = arrayField(spec, "volumes")) {
    for (const auto& v : *vols) {
      std::string n = v.is_object() ? stringField(v.as_object(), "name") : "";
      if (n.rfind(kVolumePrefix, 0) == 0) {
        volumeName = n;
        break;
      }
    }
  }
  bool hasVolume = !volumeName.empty();
  if (!hasVolume) volumeName = std::string(kVolumePrefix) + randomSuffix();
  bool needsVolume = false;
  for (const char* key : {"initContainers", "containers"}) {
    auto* cs = spec.if_contains(key);
    if (!cs || !cs->is_array()) continue;
    for (auto& cv : cs->as_array()) {
      if (!cv.is_object()) continue;
      auto& c = cv.as_object();
      bool mounted = false;
      if (const auto* mounts = arrayField(c, "volumeMounts")) {
        for (const auto& m : *mounts)
          mounted = mounted || (m.is_object() && stringField(m.as_object(), "mountPath") ==
                                                     kTokenMountPath);
      }
      if (mounted) continue;
      json::array& mountList = ensureArray(c, "volumeMounts");
      json::object mount(mountList.storage());
      mount.reserve(3);
      mount.emplace("name", volumeName);
      mount.emplace("readOnly", true);
      mount.emplace("mountPath", kTokenMountPath);
      mountList.push_back(std::move(mount));
      needsVolume = true;
    }
  }
  if (!hasVolume && needsVolume) {
    json::array& volumes = ensureArray(spec, "volumes");
    json::object volume(volumes.storage());
    volume.reserve(2);
    volume.emplace("name", volumeName);
    volume.emplace("projected", json::value(tokenVolumePrototype(), volumes.storage()));
    volumes.push_back(std::move(volume));
  }
}

class ServiceAccount : public Plugin {
 public:
  explicit ServiceAccount(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "ServiceAccount"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !a.object || !isResource(a, "", "pods")) return {};
    if (isMirrorPod(*a.object)) return validate(a);
    auto& spec = ensureObject(*a.object, "spec");
    std::string saName = stringField(spec, "serviceAccountName");
    if (saName.empty()) {
      saName = "default";
      spec["serviceAccountName"] = saName;
      spec["serviceAccount"] = saName;  // the deprecated mirror field, as v1 conversion fills it
    }
    auto sa = lookup(a.ns, saName);
    if (!sa) {
      return forbidden(a, "error looking up service account " + a.ns + "/" + saName +
                              ": serviceaccount \"" + saName + "\" not found");
    }
    if (shouldAutomount(*sa, spec)) mountToken(spec);
    const auto* pullSecrets = arrayField(*sa, "imagePullSecrets");
    const auto* own = arrayField(spec, "imagePullSecrets");
    if (pullSecrets && !pullSecrets->empty() && (!own || own->empty()))
      spec["imagePullSecrets"] = *pullSecrets;
    return {};
  }

  core::Status validate(const Attributes& a) override {
    if (a.operation != Operation::kCreate || !a.object || !isResource(a, "", "pods")) return {};
    if (!isMirrorPod(*a.object)) return {};
    const auto* spec = objectField(*a.object, "spec");
    if (spec && !stringField(*spec, "serviceAccountName").empty())
      return forbidden(a, "a mirror pod may not reference service accounts");
    return {};
  }

 private:
  // As upstream: the `default` ServiceAccount is made by a controller just after its namespace,
  // so a miss is retried for a second or two before the pod is refused.
  ObjectRef lookup(const std::string& ns, const std::string& name) const {
    static const auto* saType = core::findResource("", "v1", "serviceaccounts");
    int attempts = name == "default" ? 10 : 1;
    thread_local std::mt19937 rng{std::random_device{}()};
    auto interval = std::chrono::milliseconds(100 + std::uniform_int_distribution<int>(0, 99)(rng));
    for (int i = 0; i < attempts; ++i) {
      if (i) std::this_thread::sleep_for(interval);
      if (auto sa = reader_.get(*saType, ns, name)) return sa;
    }
    return nullptr;
  }

  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newServiceAccount(const ObjectReader& reader) {
  return std::make_unique<ServiceAccount>(reader);
}

}  // namespace berth::apiserver::admission
