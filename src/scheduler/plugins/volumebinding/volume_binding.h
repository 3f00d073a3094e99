#pragma once
// VolumeBinding (upstream plugin of that name, reduced): places pods that use
// PersistentVolumeClaims where their volumes can be.
//  - PreFilter: a claim that does not exist or is being deleted, or an unbound claim of an
//    Immediate class (the PV controller binds those), makes the pod unschedulable on every node
//    with upstream's messages; pods without claims skip the plugin.
//  - Filter: a bound claim's volume must allow the node (its required node affinity); an unbound
//    WaitForFirstConsumer claim needs an Available volume matching it with affinity for the
//    node, or a class with a provisioner (dynamic provisioning on that node).
//  - Reserve: for the chosen node, writes what upstream's PreBind writes (this framework has no
//    PreBind; Reserve runs just before the binding): a matching static volume gets the claim's
//    claimRef (the PV controller completes the claim side), otherwise the claim gets
//    volume.kubernetes.io/selected-node=<node> for its provisioner. The pod is bound at once; the
//    kubelet waits for the claim to be bound before starting it (upstream's PreBind waits
//    instead).
// Cluster reads and writes go through VolumeBindingCluster (the scheduler gives it informers
// and its client; tests give a fake).
//
// Thread-safety: filter() may run concurrently for different nodes (it only reads the cycle
// state and the cluster's listers); preFilter/reserve run on the scheduling thread.
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class VolumeBindingCluster {
 public:
  virtual ~VolumeBindingCluster() = default;
  // Null when absent.
  virtual ObjectPtr claim(const std::string& ns, const std::string& name) const = 0;
  virtual ObjectPtr storageClass(const std::string& name) const = 0;
  virtual ObjectPtr volume(const std::string& name) const = 0;
  virtual std::vector<ObjectPtr> volumes() const = 0;
  // Sets the claim's volume.kubernetes.io/selected-node annotation.
  virtual core::Status selectNode(const std::string& ns, const std::string& claim,
                                  const std::string& node) = 0;
  // Sets the volume's spec.claimRef to the claim (and pv.kubernetes.io/bound-by-controller).
  virtual core::Status bindVolume(const boost::json::value& volume,
                                  const boost::json::value& claim) = 0;
};

class VolumeBinding : public PreFilterPlugin, public FilterPlugin, public ReservePlugin {
 public:
  static constexpr std::string_view kName = "VolumeBinding";
  static constexpr std::string_view kBindConflict =
      "node(s) didn't find available persistent volumes to bind";
  static constexpr std::string_view kNodeConflict = "node(s) had volume node affinity conflict";
  static constexpr std::string_view kUnboundImmediate =
      "pod has unbound immediate PersistentVolumeClaims";

  explicit VolumeBinding(std::shared_ptr<VolumeBindingCluster> cluster)
      : cluster_(std::move(cluster)) {}
  std::string_view name() const override { return kName; }

  PluginStatus preFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap) override;
  PluginStatus filter(const CycleState& state, const PodInfo& pod,
                      const NodeInfo& node) const override;
  PluginStatus reserve(CycleState& state, const PodInfo& pod, const std::string& node) override;
  void unreserve(CycleState&, const PodInfo&, const std::string&) override {}

 private:
  std::shared_ptr<VolumeBindingCluster> cluster_;
};

}  // namespace berth::scheduler::plugins
