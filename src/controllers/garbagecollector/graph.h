#pragma once
// The garbage collector's dependency graph, as upstream's GraphBuilder keeps it
// (pkg/controller/garbagecollector/graph*.go): one node per object uid, with the owner
// references it carries and the uids of the objects that name it as owner. An owner named by a
// reference but not (yet) observed through an informer is a *virtual* node; the collector
// verifies it with a live GET and forgets it when the owner does not exist.
//
// Every change returns the uids the collector must look at next (Actions): attemptToDelete
// for dependents whose owner went away and owners waiting on their dependents (foreground
// deletion), attemptToOrphan for owners deleted with the `orphan` finalizer. The graph decides
// nothing about the API; the collector's workers do, from live reads.
//
// Thread-safety: every method is safe from any thread (one mutex, no I/O under it).
#include <boost/json/value.hpp>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace berth::controllers::gc {

struct OwnerRef {
  std::string apiVersion, kind, name, uid;
  bool controller = false;
  bool blockOwnerDeletion = false;
};

struct ObjectRef {
  std::string apiVersion, kind, namespace_, name, uid;
};

// What the graph needs of an observed object.
struct ObservedObject {
  ObjectRef ref;
  std::vector<OwnerRef> owners;
  bool beingDeleted = false;        // metadata.deletionTimestamp is set
  bool deletingDependents = false;  // ... and the foregroundDeletion finalizer is present
  bool orphaning = false;           // ... and the orphan finalizer is present
};

// Reads an object as an informer delivers it; apiVersion and kind come from the resource it
// was listed from (list items may omit them).
std::optional<ObservedObject> observedFrom(const boost::json::value& obj,
                                           const std::string& apiVersion, const std::string& kind);
std::vector<OwnerRef> ownerRefsOf(const boost::json::value& obj);

struct Actions {
  std::vector<std::string> attemptToDelete;  // uids
  std::vector<std::string> attemptToOrphan;  // uids
};

// A copy of one node for a worker to act on.
struct NodeView {
  ObjectRef ref;
  bool observed = false;
  bool beingDeleted = false;
  bool deletingDependents = false;
  std::vector<OwnerRef> owners;
  std::vector<ObjectRef> dependents;
  // Dependents whose reference to this node has blockOwnerDeletion=true.
  std::vector<ObjectRef> blockingDependents;
  // Some dependent is itself deleting its dependents (a possible foreground cycle).
  bool dependentDeletingDependents = false;
};

class Graph {
 public:
  // An add or update seen by an informer.
  Actions observe(const ObservedObject& obj);
  // A delete seen by an informer (or a live read that found the uid gone).
  Actions forget(const std::string& uid);
  // A virtual node whose owner a live read found absent; a no-op once the node was observed.
  Actions forgetVirtual(const std::string& uid);

  std::optional<NodeView> node(const std::string& uid) const;
  size_t size() const;

 private:
  struct Node {
    ObjectRef ref;
    bool observed = false;
    bool beingDeleted = false;
    bool deletingDependents = false;
    std::vector<OwnerRef> owners;
    std::set<std::string> dependents;
  };
  void addDependentLocked(const OwnerRef& owner, const ObjectRef& dependent, Actions& out);
  void removeDependentLocked(const OwnerRef& owner, const std::string& dependentUid, Actions& out);
  Actions forgetLocked(const std::string& uid);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Node> nodes_;
};

}  // namespace berth::controllers::gc
