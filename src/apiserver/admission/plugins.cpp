#include "apiserver/admission/plugins.h"

#include <algorithm>
#include <functional>
#include <map>

namespace berth::apiserver::admission {

namespace {

using Factory = std::function<std::unique_ptr<Plugin>(const PluginDeps&)>;

// The plugins Berth implements here, by upstream name. (The registry also checks the namespace
// of every create, Registry::checkNamespace, and protects the system namespaces on delete.)
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f = {
      {"NamespaceLifecycle", [](const PluginDeps& d) { return newNamespaceLifecycle(*d.reader); }},
      {"LimitRanger", [](const PluginDeps& d) { return newLimitRanger(*d.reader); }},
      {"ServiceAccount", [](const PluginDeps& d) { return newServiceAccount(*d.reader); }},
      {"Priority", [](const PluginDeps& d) { return newPriority(*d.reader); }},
      {"DefaultTolerationSeconds", [](const PluginDeps&) { return newDefaultTolerationSeconds(); }},
      {"DefaultStorageClass", [](const PluginDeps& d) { return newDefaultStorageClass(*d.reader); }},
      {"PodSecurity", [](const PluginDeps& d) { return newPodSecurity(*d.reader); }},
      {"StorageObjectInUseProtection",
       [](const PluginDeps&) { return newStorageObjectInUseProtection(); }},
  };
  return f;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const std::vector<std::string>& orderedPluginNames() {
  // kube-apiserver's AllOrderedPlugins (pkg/kubeapiserver/options/plugins.go).
  static const std::vector<std::string> names = {
      "AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists",
      "AlwaysPullImages", "LimitPodHardAntiAffinityTopology", "LimitRanger", "ServiceAccount",
      "NodeRestriction", "TaintNodesByCondition", "PodNodeSelector", "Priority",
      "DefaultTolerationSeconds", "PodTolerationRestriction", "EventRateLimit",
      "ExtendedResourceToleration", "PersistentVolumeLabel", "DefaultStorageClass",
      "StorageObjectInUseProtection", "OwnerReferencesPermissionEnforcement",
      "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
      "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
      "DenyServiceExternalIPs", "PodSecurity", "MutatingAdmissionWebhook",
      "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota", "AlwaysDeny"};
  return names;
}

const std::vector<std::string>& defaultOnPluginNames() {
  // DefaultOffAdmissionPlugins' complement (upstream), plus NodeRestriction, which every
  // kubeadm cluster enables and Berth's node identities rely on.
  static const std::vector<std::string> names = {
      "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "NodeRestriction",
      "TaintNodesByCondition",
      "PodSecurity", "Priority", "DefaultTolerationSeconds", "DefaultStorageClass",
      "StorageObjectInUseProtection", "PersistentVolumeClaimResize", "RuntimeClass",
      "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
      "CertificateSubjectRestriction", "DefaultIngressClass", "MutatingAdmissionWebhook",
      "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota"};
  return names;
}

core::Status installBuiltinPlugins(Chain& chain, const PluginDeps& deps,
                                   const std::vector<std::string>& enable,
                                   const std::vector<std::string>& disable,
                                   std::vector<std::string>* installed) {
  const auto& all = orderedPluginNames();
  for (const auto* list : {&enable, &disable}) {
    for (const auto& n : *list) {
      if (!contains(all, n))
        return core::Status::badRequest("admission-control plugin \"" + n + "\" is unknown");
    }
  }
  for (const auto& n : enable) {
    if (contains(disable, n))
      return core::Status::badRequest("" + n +
                                      " plugin is both enabled and disabled, please check "
                                      "--enable-admission-plugins and --disable-admission-plugins");
  }
  for (const auto& n : all) {
    bool on = (contains(defaultOnPluginNames(), n) || contains(enable, n)) && !contains(disable, n);
    if (!on) continue;
    if (auto ext = deps.external.find(n); ext != deps.external.end()) {
      chain.add(ext->second());
      if (installed) installed->push_back(n);
      continue;
    }
    auto it = factories().find(n);
    if (it == factories().end()) continue;
    if (!deps.reader) return core::Status::internal("admission plugins need an object reader");
    chain.add(it->second(deps));
    if (installed) installed->push_back(n);
  }
  return {};
}

}  // namespace berth::apiserver::admission
