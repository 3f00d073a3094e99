#pragma once
// The selector PodTopologySpread's default constraints spread a pod by (upstream's
// helper.DefaultSelector): the merged selectors of the Services in the pod's namespace that
// select it, plus the selector of its controlling ReplicaSet or StatefulSet. nullopt when
// nothing selects the pod (then there is nothing to spread).
//
// Thread-safety: reads listers only; safe from any thread.
#include <optional>

#include "client/informer.h"
#include "core/labels.h"
#include "scheduler/framework/types.h"

namespace berth::scheduler {

std::optional<core::LabelSelector> defaultSpreadSelector(const PodInfo& pod,
                                                         const client::Lister& services,
                                                         const client::Lister& replicaSets,
                                                         const client::Lister& statefulSets);

}  // namespace berth::scheduler
