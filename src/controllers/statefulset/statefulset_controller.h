#pragma once
// StatefulSetController: pods with stable identities for every StatefulSet, as upstream's
// pkg/controller/statefulset: pods <set>-<ordinal> (from spec.ordinals.start) with hostname,
// subdomain and the pod-name/pod-index labels; volumeClaimTemplates become claims
// <template>-<set>-<ordinal>, created before the pod and mounted by it; OrderedReady creates in
// ordinal order each after the previous is Running and Ready (and deletes in reverse), Parallel
// does not wait; RollingUpdate replaces pods from the highest ordinal down to the partition one
// at a time, OnDelete only as the user deletes them; ControllerRevisions with
// controller-revision-hash on pods; status replicas/ready/available/current/updated and the
// current and update revisions.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads, at
// most one per StatefulSet key at a time.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newStatefulSetController(ControllerContext& ctx);

}  // namespace berth::controllers
