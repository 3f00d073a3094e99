#pragma once
// The plugins this build knows and upstream's default profile made of them (filter order and
// score weights as kube-scheduler v1.32's default: TaintToleration 3, NodeAffinity 2,
// InterPodAffinity 2, PodTopologySpread 2, NodeResourcesFit 1,
// NodeResourcesBalancedAllocation 1).
#include <memory>
#include <string>

#include "scheduler/profile.h"

namespace berth::scheduler {

namespace plugins {
class VolumeBindingCluster;
}

// `volumes` (null = no VolumeBinding plugin, e.g. in tests without PVCs): the cluster view the
// VolumeBinding plugin reads and writes.
std::unique_ptr<Profile> defaultProfile(
    const std::string& schedulerName = "default-scheduler",
    std::shared_ptr<plugins::VolumeBindingCluster> volumes = nullptr);

}  // namespace berth::scheduler
