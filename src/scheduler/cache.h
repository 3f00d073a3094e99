#pragma once
// Cache: the scheduler's live model of the cluster, as upstream's internal/cache: NodeInfos for
// every node, holding the pods bound there (from the pod informer) and the pods the scheduler
// has *assumed* there (decided, binding in flight). Assuming is what lets the next cycle start
// before the binding's round trip completes, without putting two pods into one free slot.
//
// Assumed pods: assumePod() places the pod; finishBinding() marks its binding done; the
// informer's add of the bound pod confirms it (the assumed copy is replaced); forgetPod() takes
// it back when binding failed.
//
// Snapshots: every change bumps a generation counter and stamps the node it touched.
// updateSnapshot() copies into a Snapshot only the nodes stamped after the snapshot's generation.
// NodeInfos are copy-on-write: the snapshot shares the cache's NodeInfo, and the cache clones a
// node before changing it while a snapshot still holds it, so a snapshot never changes under a
// running cycle and refreshing it costs O(changed nodes).
//
// Thread-safety: every method is safe from any thread (one mutex; no I/O under it).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "scheduler/framework/snapshot.h"

namespace berth::scheduler {

class Cache {
 public:
  void addNode(ObjectPtr node);
  void updateNode(ObjectPtr node) { addNode(std::move(node)); }
  void removeNode(const std::string& name);

  // A pod with spec.nodeName from the informer (confirms an assumed pod of the same uid).
  void addPod(PodInfoPtr pod);
  void updatePod(PodInfoPtr pod) { addPod(std::move(pod)); }
  void removePod(const PodInfo& pod);

  // Places a pod (whose nodeName is the chosen node) before binding. AlreadyExists when the
  // pod is already in the cache.
  core::Status assumePod(PodInfoPtr pod);
  void finishBinding(const std::string& uid);
  // Undoes assumePod (binding failed).
  void forgetPod(const std::string& uid);
  bool isAssumed(const std::string& uid) const;
  // The cached pod with this uid (assumed or bound), or null.
  PodInfoPtr pod(const std::string& uid) const;

  void setNamespaceLabels(const std::string& ns, core::Labels labels);
  void removeNamespace(const std::string& ns);

  // Brings `snap` up to date (see above).
  void updateSnapshot(Snapshot& snap);
  size_t nodeCount() const;
  size_t podCount() const;

 private:
  struct PodState {
    PodInfoPtr pod;
    bool assumed = false;
    bool bindingFinished = false;
  };
  // The node's info, cloned first if a snapshot shares it; created empty if unknown. Stamps the
  // node with a new generation. Caller holds mu_.
  NodeInfo& mutableNode(const std::string& name);
  void removePodLocked(const std::string& uid);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<NodeInfo>> nodes_;
  std::map<int64_t, std::string> byGeneration_;  // newest last; one entry per node
  std::unordered_map<std::string, PodState> pods_;  // by uid
  std::unordered_map<std::string, core::Labels> namespaces_;
  int64_t generation_ = 0;
  int64_t nodeSetGeneration_ = 0;   // last add/remove of a Node object
  int64_t namespaceGeneration_ = 0;
};

}  // namespace berth::scheduler
