#pragma once
// The persistent volume controllers:
//
// PersistentVolumeBinder ("persistentvolume-binder", upstream's pkg/controller/volume/
// persistentvolume, name persistent-volume-binder): binds claims to volumes and keeps both
// phases right. An unbound claim of an Immediate class (or no class) binds to the smallest
// Available volume matching its class, access modes, capacity, volumeMode and selector
// (core/volume_binding.h); a WaitForFirstConsumer claim waits (event WaitForFirstConsumer)
// until the scheduler picks a node (volume.kubernetes.io/selected-node) or binds a volume to it;
// a claim no volume fits whose class has a provisioner gets the storage-provisioner annotations
// and waits for it (event ExternalProvisioning). Binding writes, in upstream's order, the
// volume (spec.claimRef; pv.kubernetes.io/bound-by-controller when the controller chose it),
// its status (Bound), the claim (spec.volumeName; pv.kubernetes.io/bind-completed and
// bound-by-controller) and the claim's status (Bound, accessModes, capacity). A volume whose
// claim is gone becomes Released; Retain keeps it; Delete of a volume some provisioner made is
// left to that provisioner (pv.kubernetes.io/provisioned-by); Delete of any other volume fails
// (phase Failed, event VolumeFailedDelete), as upstream without a deleter plugin. A bound claim
// whose volume vanished is Lost.
//
// LocalPathProvisioner ("local-path-provisioner", k3s's rancher.io/local-path): ensures the
// default StorageClass `local-path` (WaitForFirstConsumer, reclaim Delete) on start; for a claim
// of a class with provisioner rancher.io/local-path that the scheduler gave a node, creates a
// pre-bound PersistentVolume pvc-<uid> (hostPath <local-path-dir>/pvc-<uid>_<ns>_<name>,
// DirectoryOrCreate, node affinity kubernetes.io/hostname In [node], capacity = the request,
// the class's reclaim policy); the node's kubelet creates the directory when it mounts it.
// A Released volume with reclaim Delete that it provisioned is deleted: its directory is removed
// first when it lies on this machine (under local-path-dir; see docs/decisions.md), then the
// PersistentVolume. Flag: local-path-dir (the server passes <data-dir>/storage).
//
// Thread-safety: run()/stop() from the manager's thread; syncs on their QueueWorkers threads
// (one worker per queue, so two claims never race for one volume inside this process; the
// API's resourceVersion checks catch the rest).
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newPersistentVolumeBinder(ControllerContext& ctx);
std::unique_ptr<Controller> newLocalPathProvisioner(ControllerContext& ctx);

}  // namespace berth::controllers
