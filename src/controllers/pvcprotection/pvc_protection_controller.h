#pragma once
// PvcProtectionController ("pvc-protection", upstream pkg/controller/volume/pvcprotection):
// keeps the finalizer kubernetes.io/pvc-protection on every PersistentVolumeClaim (the
// StorageObjectInUseProtection admission plugin adds it on create; this adds it to claims made
// before) and, once a claim is being deleted, removes it only when no pod uses the claim
// (claim_usage.h). The informer's pods are asked first, by an index of pods by claim; when they
// show no user, one live list of the namespace's pods confirms it (a pod the cache has not seen
// yet must not lose its volume). Pod events that may release a claim (deleted, terminated,
// unscheduled) re-queue the claims the pod names. Emits no events, as upstream.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on one QueueWorkers thread
// (upstream runs one worker).
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newPvcProtectionController(ControllerContext& ctx);

}  // namespace berth::controllers
