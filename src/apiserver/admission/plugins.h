#pragma once
// The built-in admission plugins and the one place that installs them in upstream's order
// (kube-apiserver's AllOrderedPlugins): NamespaceLifecycle, LimitRanger, ServiceAccount,
// NodeRestriction, Priority, DefaultTolerationSeconds, PodSecurity, ..., ResourceQuota.
// `--enable-admission-plugins` adds to the default set, `--disable-admission-plugins` removes
// from it; the order is always upstream's, whatever the flags' order.
//
// Thread-safety: install once before serving; the plugins are safe for concurrent requests.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/object_reader.h"
#include "core/status.h"

namespace berth::apiserver::admission {

// What the plugins may use of the server. Must outlive the chain.
struct PluginDeps {
  const ObjectReader* reader = nullptr;
  // Plugins built elsewhere (NodeRestriction in authz, ResourceQuota with the registry), by
  // upstream name: installed in upstream's order and switched by the same flags.
  std::map<std::string, std::function<std::unique_ptr<Plugin>()>> external;
};

std::unique_ptr<Plugin> newNamespaceLifecycle(const ObjectReader& reader);
std::unique_ptr<Plugin> newLimitRanger(const ObjectReader& reader);
std::unique_ptr<Plugin> newServiceAccount(const ObjectReader& reader);
std::unique_ptr<Plugin> newPriority(const ObjectReader& reader);
std::unique_ptr<Plugin> newDefaultTolerationSeconds();
std::unique_ptr<Plugin> newDefaultStorageClass(const ObjectReader& reader);
std::unique_ptr<Plugin> newPodSecurity(const ObjectReader& reader);
std::unique_ptr<Plugin> newStorageObjectInUseProtection();

// Every plugin name upstream knows, in its order; and the ones on by default.
const std::vector<std::string>& orderedPluginNames();
const std::vector<std::string>& defaultOnPluginNames();

// Adds the enabled plugins to `chain` in upstream's order. An unknown name in either list is an
// error (as upstream: `admission-control plugin "X" is unknown`); a known plugin that Berth
// does not implement (yet) adds nothing.
core::Status installBuiltinPlugins(Chain& chain, const PluginDeps& deps,
                                   const std::vector<std::string>& enable,
                                   const std::vector<std::string>& disable,
                                   std::vector<std::string>* installed = nullptr);

}  // namespace berth::apiserver::admission
