#pragma once
// The resource quota controller (upstream's pkg/controller/resourcequota): keeps every
// ResourceQuota's status.hard equal to spec.hard and status.used recounted from the objects in
// its namespace, so what `kubectl describe quota` shows is true and deletes give quota back
// (the ResourceQuota admission plugin only ever adds to status.used).
//
// A quota is recounted when it is created or its spec changes, when an object it may count is
// deleted (pods also when they finish, services when their type or ports change), and every
// --resource-quota-sync-period (5m, upstream's default) for everything else, e.g. count/ of
// resources without an informer here. The recount reads objects with consistent lists and
// writes status with the quota's resourceVersion as precondition: if admission charged the
// quota meanwhile, the write conflicts and the key is retried.
//
// Thread-safety: run()/stop() from the manager's thread; syncs run on the worker threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newResourceQuotaController(ControllerContext& ctx);

}  // namespace berth::controllers
