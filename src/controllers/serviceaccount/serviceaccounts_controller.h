#pragma once
// ServiceAccountsController: every active namespace has a `default` ServiceAccount, created
// when the namespace appears and again whenever it is deleted, as upstream's
// pkg/controller/serviceaccount/serviceaccounts_controller.go. Namespaces being deleted are left
// alone (creating there is refused anyway).
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newServiceAccountsController(ControllerContext& ctx);

}  // namespace berth::controllers
