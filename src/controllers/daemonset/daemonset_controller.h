#pragma once
// DaemonSetController: one pod per eligible node for every DaemonSet, as upstream's
// pkg/controller/daemon. Pods are created unbound with the node pinned through required node
// affinity (`matchFields metadata.name In [node]`); the scheduler binds them. It follows nodes
// joining, leaving and changing labels or taints, rolls out template changes (RollingUpdate
// with maxUnavailable/maxSurge, or OnDelete), keeps ControllerRevisions of the templates and
// writes the DaemonSet's status.
//
// Thread-safety: run()/stop() from the manager's thread; syncs run on the QueueWorkers threads,
// at most one per DaemonSet key at a time.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newDaemonSetController(ControllerContext& ctx);

}  // namespace berth::controllers
