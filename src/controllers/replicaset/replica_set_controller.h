#pragma once
// The ReplicaSet and ReplicationController controllers (upstream pkg/controller/replicaset; the
// RC controller there is the same code behind an adapter, and so it is here): keep
// spec.replicas active pods matching the selector, owned through a controller ownerReference.
//
// One sync of a key (level-triggered, safe to repeat):
//  1. claim the namespace's active pods (ControllerRefManager: adopt matching orphans, release
//     owned pods whose labels no longer match);
//  2. if the expectations of earlier syncs are met and the owner is not being deleted, create
//     the missing pods (generateName "<name>-", slow-start batches 1, 2, 4, ..., at most 500 per
//     sync) or delete the surplus in pod_ranking.h's order, recording SuccessfulCreate /
//     SuccessfulDelete (or FailedCreate / FailedDelete) events on the owner;
//  3. write status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
//     observedGeneration, the ReplicaFailure condition) through the status subresource when it
//     changed; re-check after minReadySeconds while pods are ready but not yet available.
// Pods being deleted (deletionTimestamp) or finished (Succeeded/Failed) do not count.
//
// Thread-safety: constructed, run and stopped by the ControllerManager; syncs run on the
// QueueWorkers' threads (one key at a time per key), handlers on the informers' threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newReplicaSetController(ControllerContext& ctx);
std::unique_ptr<Controller> newReplicationControllerController(ControllerContext& ctx);

}  // namespace berth::controllers
