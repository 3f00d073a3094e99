#pragma once
// Informer transforms (client-go's SharedIndexInformer.SetTransform): what an in-process
// informer drops from an object before caching it, because no component of the process reads
// it. Every cached pod is held for the process's lifetime, so each member dropped is ~40 bytes
// of Boost.JSON tree per pod (150,000 pods: 6 MB per member).
//
// The objects are only ever read: no controller writes a cached object back (they patch), and
// the server keeps what an update body leaves out of metadata.managedFields
// (registry: an update without managedFields keeps the stored ones), so nothing dropped here
// is lost on the server.
//
// Thread-safety: pure functions of their argument.
#include <boost/json/value.hpp>

namespace berth::client {

// Removes metadata.managedFields (upstream's TransformStripManagedFields).
void stripManagedFields(boost::json::value& obj);

// Removes from a core/v1 Pod what no controller, the scheduler or the ingress controller reads
// (checked against their sources; a component that needs one of these must use an informer
// without this transform):
// - the contents of configMap, secret, downwardAPI and projected volumes (each volume keeps its
//   name and its source's key, so its kind stays visible; persistentVolumeClaim and ephemeral
//   volumes, which the scheduler and the PVC protection controller read, are kept whole);
// - spec.dnsPolicy, enableServiceLinks, serviceAccount (the deprecated alias of
//   serviceAccountName, which is kept), securityContext and terminationGracePeriodSeconds;
// - each container's volumeMounts, terminationMessagePath, terminationMessagePolicy and
//   imagePullPolicy (its name, image, ports and resources are kept);
// - status.conditions[*].lastProbeTime;
// - each container status's image, imageID, containerID, lastState and started (its name,
//   state, ready and restartCount are kept).
void dropUnreadPodFields(boost::json::value& pod);

}  // namespace berth::client
