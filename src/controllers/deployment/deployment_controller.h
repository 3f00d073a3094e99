#pragma once
// The Deployment controller (upstream pkg/controller/deployment): rolls a Deployment's pod
// template out through ReplicaSets it owns.
//
// - The new ReplicaSet is the one whose template equals the Deployment's (ignoring the
//   pod-template-hash label); it is created as "<name>-<hash>" with the hash added to its labels,
//   selector and template, and revision max(old)+1 (deployment.kubernetes.io/revision; a
//   ReplicaSet rolled back to keeps its older numbers in revision-history). desired-replicas and
//   max-replicas annotations record the size each ReplicaSet was scaled for.
// - RollingUpdate grows the new ReplicaSet while all pods stay within replicas+maxSurge and
//   shrinks old ones while available pods stay at least replicas-maxUnavailable (unhealthy old
//   pods first); Recreate scales old ones to zero, waits until their pods are gone, then creates
//   the new one at full size.
// - A change of spec.replicas alone (or any change while paused) is a scaling event: active
//   ReplicaSets grow or shrink in proportion to their size (upstream's proportional scaling).
// - Old ReplicaSets beyond revisionHistoryLimit with no pods are deleted once a rollout is done.
// - Status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
//   observedGeneration, collisionCount, and the Available and Progressing conditions
//   (progressDeadlineSeconds; reasons NewReplicaSetCreated, FoundNewReplicaSet,
//   ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused,
//   DeploymentResumed).
// One difference from upstream: the Deployment's revision annotation is written with a PATCH of
// its metadata, because Berth's status subresource keeps metadata as stored (upstream's lets a
// status update change annotations).
//
// Thread-safety: as every controller (controller.h); syncs on the QueueWorkers' threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newDeploymentController(ControllerContext& ctx);

}  // namespace berth::controllers
