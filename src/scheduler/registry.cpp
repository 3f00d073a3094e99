#include "scheduler/registry.h"

#include "scheduler/plugins/defaultpreemption/default_preemption.h"
#include "scheduler/plugins/interpodaffinity/inter_pod_affinity.h"
#include "scheduler/plugins/nodeaffinity/node_affinity.h"
#include "scheduler/plugins/nodename/node_name.h"
#include "scheduler/plugins/nodeports/node_ports.h"
#include "scheduler/plugins/noderesources/fit.h"
#include "scheduler/plugins/nodeunschedulable/node_unschedulable.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"
#include "scheduler/plugins/tainttoleration/taint_toleration.h"
#include "scheduler/plugins/volumebinding/volume_binding.h"

namespace berth::scheduler {

std::unique_ptr<Profile> defaultProfile(const std::string& schedulerName,
                                        std::shared_ptr<plugins::VolumeBindingCluster> volumes) {
  auto p = std::make_unique<Profile>(schedulerName);
  // Filters run in this order and stop at the first rejection (upstream's default order).
  p->addPlugin(std::make_shared<plugins::NodeUnschedulable>());
  p->addPlugin(std::make_shared<plugins::NodeName>());
  p->addPlugin(std::make_shared<plugins::TaintToleration>(), 3);
  p->addPlugin(std::make_shared<plugins::NodeAffinity>(), 2);
  p->addPlugin(std::make_shared<plugins::NodePorts>());
  p->addPlugin(std::make_shared<plugins::NodeResourcesFit>(), 1);
  p->addPlugin(std::make_shared<plugins::NodeResourcesBalancedAllocation>(), 1);
  if (volumes) p->addPlugin(std::make_shared<plugins::VolumeBinding>(std::move(volumes)));
  p->addPlugin(std::make_shared<plugins::PodTopologySpread>(), 2);
  p->addPlugin(std::make_shared<plugins::InterPodAffinity>(), 2);
  p->addPlugin(std::make_shared<plugins::DefaultPreemption>(*p));
  return p;
}

}  // namespace berth::scheduler
