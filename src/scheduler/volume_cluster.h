#pragma once
// The VolumeBinding plugin's view of the cluster in the running scheduler: claims, volumes and
// StorageClasses from the scheduler's informers, writes through its client; any change to
// them calls `onChange` (the scheduler retries unschedulable pods, which may now fit).
//
// Thread-safety: reads from any thread (listers); writes from the scheduling thread.
#include <functional>
#include <memory>

#include "client/informer.h"
#include "client/rest_client.h"
#include "scheduler/plugins/volumebinding/volume_binding.h"

namespace berth::scheduler {

std::shared_ptr<plugins::VolumeBindingCluster> newInformerVolumeCluster(
    client::RestClient& client, client::SharedInformerFactory& informers,
    std::function<void()> onChange);

}  // namespace berth::scheduler
