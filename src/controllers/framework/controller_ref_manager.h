#pragma once
// ControllerRefManager: which objects a controller owns, as upstream's ControllerRefManager
// (pkg/controller/controller_ref_manager.go). Given the owner, its selector and candidate
// objects (pods of a ReplicaSet, ReplicaSets of a Deployment):
//  - an object controlled by another owner is left alone;
//  - one controlled by this owner whose labels still match is kept; one whose labels no longer
//    match is released (its ownerReference removed by a strategic-merge PATCH keyed by uid),
//    unless the owner is being deleted;
//  - an orphan that matches, is not being deleted and is in the owner's namespace is adopted
//    (a controller ownerReference with blockOwnerDeletion added by PATCH), after one uncached
//    GET confirms the owner still exists with the same uid and is not being deleted (a
//    controller must not adopt for an owner that is going away).
// The PATCHes carry metadata.uid as a precondition, as upstream's do.
// Every controller that owns objects by selector (ReplicaSet/RC, Deployment, DaemonSet,
// StatefulSet, Job) claims through this one class; ownersSelecting() below is the matching event
// side (which owners to wake for an orphan).
//
// Thread-safety: one instance per sync, used by one thread.
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "client/informer.h"
#include "client/rest_client.h"
#include "core/labels.h"
#include "core/result.h"
#include "core/status.h"

namespace berth::controllers {

class ControllerRefManager {
 public:
  // `owner` as the informer has it; `ownerResource` to re-read it; `apiVersion`/`kind` for the
  // ownerReference. `extraMatch` (optional) further restricts what may be adopted or kept.
  ControllerRefManager(client::RestClient& client, client::Resource ownerResource,
                       const boost::json::value& owner, std::string apiVersion, std::string kind,
                       core::LabelSelector selector);

  // Further restricts what may be adopted or kept (upstream's ClaimPods filters, e.g. a
  // StatefulSet's pods must carry its name and an ordinal).
  void setFilter(std::function<bool(const boost::json::value&)> filter) {
    filter_ = std::move(filter);
  }
  // Finalizers added on adoption and removed on release (the Job's tracking finalizer).
  void setFinalizers(std::vector<std::string> finalizers) { finalizers_ = std::move(finalizers); }

  // The candidates this owner controls after adopting and releasing. Failed adoptions and
  // releases are skipped (NotFound ignored, as upstream); the first other error is returned in
  // `error` so the caller re-queues, while the claimed list is still usable.
  std::vector<client::ObjectPtr> claim(const client::Resource& childResource,
                                       const std::vector<client::ObjectPtr>& candidates,
                                       core::Status& error);

  // The patch bodies (exposed for tests).
  static std::string adoptPatch(const boost::json::value& ownerRef, std::string_view childUid,
                                const std::vector<std::string>& finalizers = {});
  static std::string releasePatch(std::string_view ownerUid, std::string_view childUid,
                                  const std::vector<std::string>& finalizers = {});

 private:
  core::Status canAdopt();

  client::RestClient& client_;
  const client::Resource ownerResource_;
  const boost::json::value& owner_;
  const std::string apiVersion_, kind_;
  const core::LabelSelector selector_;
  std::optional<core::Status> adoptable_;  // the recheck's answer, once asked
  std::function<bool(const boost::json::value&)> filter_;
  std::vector<std::string> finalizers_;
};

// How an owner's selector is read (a ReplicationController's is a plain label map).
using SelectorOf = std::function<core::Result<core::LabelSelector>(const boost::json::value&)>;
// The owners in the child's namespace whose non-empty selector matches the child's labels: the
// ones to enqueue when an orphan appears or changes labels (each may try to adopt it, as
// upstream's getPodReplicaSets / getPodDaemonSets / getPodStatefulSets / getPodJobs).
std::vector<client::ObjectPtr> ownersSelecting(const client::Lister& owners,
                                               const boost::json::value& child,
                                               const SelectorOf& selectorOf);
// The same with spec.selector as a LabelSelector.
std::vector<client::ObjectPtr> ownersSelecting(const client::Lister& owners,
                                               const boost::json::value& child);

}  // namespace berth::controllers
