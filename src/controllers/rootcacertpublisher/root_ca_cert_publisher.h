#pragma once
// RootCaCertPublisher: the ConfigMap `kube-root-ca.crt` (data key ca.crt = the cluster CA
// bundle) in every active namespace, recreated when deleted and rewritten when changed, as
// upstream's pkg/controller/certificates/rootcacertpublisher. Pods read it through the projected
// kube-api-access volume to verify the API server. The bundle is the file named by the
// controller flag root-ca-file (upstream's --root-ca-file), else the CA the controller manager's
// own kubeconfig trusts.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

inline constexpr const char* kRootCaConfigMapName = "kube-root-ca.crt";

std::unique_ptr<Controller> newRootCaCertPublisher(ControllerContext& ctx);

}  // namespace berth::controllers
