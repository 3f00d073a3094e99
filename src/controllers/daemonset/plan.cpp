#include "controllers/daemonset/plan.h"

#include <algorithm>
#include <set>

#include "controllers/daemonset/node_eligibility.h"

namespace berth::controllers::daemonset {

namespace json = boost::json;
using client::ObjectPtr;

namespace {

// Upstream podByCreationTimestampAndPhase: scheduled pods first, then oldest, then by name.
void sortOldestFirst(std::vector<ObjectPtr>& pods) {
  std::sort(pods.begin(), pods.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    bool sa = !strAt(specOf(*a), "nodeName").empty();
    bool sb = !strAt(specOf(*b), "nodeName").empty();
    if (sa != sb) return sa;
    std::string ta = strAt(metaOf(*a), "creationTimestamp");
    std::string tb = strAt(metaOf(*b), "creationTimestamp");
    if (ta != tb) return ta < tb;
    return strAt(metaOf(*a), "name") < strAt(metaOf(*b), "name");
  });
}

std::string nodeNameOf(const ObjectPtr& node) { return strAt(metaOf(*node), "name"); }

const std::vector<ObjectPtr>& podsOn(const NodePods& nodePods, const std::string& node) {
  static const std::vector<ObjectPtr> kNone;
  auto it = nodePods.find(node);
  return it == nodePods.end() ? kNone : it->second;
}

bool allowsSurge(const json::value& ds) {
  const json::object& strategy = objAt(ds, "spec", "updateStrategy");
  if (strAt(strategy, "type") != "RollingUpdate") return false;
  auto surge = scaledValue(objAt(strategy, "rollingUpdate").if_contains("maxSurge"), 1, true);
  return surge.ok() && *surge > 0;
}

// upstream findUpdatedPodsOnNode: at most one updated and one old live pod per node; false when
// there are more (the manage step cleans those up first).
bool updatedAndOldOnNode(const json::value& ds, const std::vector<ObjectPtr>& pods,
                         const std::string& hash, ObjectPtr& newPod, ObjectPtr& oldPod) {
  newPod.reset();
  oldPod.reset();
  for (const ObjectPtr& p : pods) {
    if (isBeingDeleted(*p)) continue;
    ObjectPtr& slot = isPodUpdated(*p, ds, hash) ? newPod : oldPod;
    if (slot) return false;
    slot = p;
  }
  return true;
}

}  // namespace

NodePods podsByNode(const std::vector<ObjectPtr>& pods) {
  NodePods out;
  for (const ObjectPtr& p : pods) {
    if (isPodTerminal(*p) && isBeingDeleted(*p)) continue;
    std::string node = targetNodeName(*p);
    if (!node.empty()) out[node].push_back(p);
  }
  for (auto& [_, list] : out) sortOldestFirst(list);
  return out;
}

bool isPodUpdated(const json::value& pod, const json::value& ds, const std::string& hash) {
  const json::object& labels = objAt(pod, "metadata", "labels");
  if (!hash.empty() && strAt(labels, kRevisionHashLabel) == hash) return true;
  std::string generation =
      strAt(objAt(ds, "metadata", "annotations"), kTemplateGenerationAnnotation);
  return !generation.empty() && strAt(labels, kTemplateGenerationLabel) == generation;
}

ManagePlan planManage(const json::value& ds, const std::vector<ObjectPtr>& nodes,
                      const NodePods& nodePods, const std::string& hash) {
  ManagePlan plan;
  bool surge = allowsSurge(ds);
  std::set<std::string> known;
  for (const ObjectPtr& node : nodes) {
    std::string name = nodeNameOf(node);
    known.insert(name);
    Placement place = nodeShouldRunDaemonPod(*node, ds);
    const std::vector<ObjectPtr>& pods = podsOn(nodePods, name);
    if (place.shouldRun && pods.empty()) {
      plan.nodesNeedingPods.push_back(name);
      continue;
    }
    if (!place.shouldContinueRunning) {
      for (const ObjectPtr& p : pods) {
        if (!isBeingDeleted(*p)) plan.podsToDelete.push_back(p);
      }
      continue;
    }
    std::vector<ObjectPtr> running;
    for (const ObjectPtr& p : pods) {
      if (isBeingDeleted(*p)) continue;
      std::string phase = podPhase(*p);
      if (phase == "Failed") {
        plan.podsToDelete.push_back(p);
        plan.failedPods.push_back(p);
      } else if (phase == "Succeeded") {
        plan.podsToDelete.push_back(p);  // daemons are not supposed to finish: replace it
      } else {
        running.push_back(p);
      }
    }
    if (running.size() <= 1) continue;
    if (!surge) {
      for (size_t i = 1; i < running.size(); ++i) plan.podsToDelete.push_back(running[i]);
      continue;
    }
    ObjectPtr oldestNew, oldestOld;
    for (const ObjectPtr& p : running) {
      ObjectPtr& keep = isPodUpdated(*p, ds, hash) ? oldestNew : oldestOld;
      if (!keep) {
        keep = p;
      } else {
        plan.podsToDelete.push_back(p);
      }
    }
  }
  // Unscheduled pods meant for a node that no longer exists (bound ones are the pod GC's).
  for (const auto& [node, pods] : nodePods) {
    if (known.count(node)) continue;
    for (const ObjectPtr& p : pods) {
      if (strAt(specOf(*p), "nodeName").empty() && !isBeingDeleted(*p)) {
        plan.podsToDelete.push_back(p);
      }
    }
  }
  return plan;
}

RolloutPlan planRollingUpdate(const json::value& ds, const std::vector<ObjectPtr>& nodes,
                              const NodePods& nodePods, const std::string& hash, long long desired,
                              SystemTime now) {
  RolloutPlan plan;
  const json::object& ru = objAt(ds, "spec", "updateStrategy", "rollingUpdate");
  long long minReady = intAt(specOf(ds), "minReadySeconds").value_or(0);
  auto surge = scaledValue(ru.if_contains("maxSurge"), desired, true);
  auto unavailableAllowed = scaledValue(ru.if_contains("maxUnavailable"), desired, true);
  long long maxSurge = surge.ok() ? *surge : 0;
  long long maxUnavailable = unavailableAllowed.ok() ? *unavailableAllowed : 1;
  if (maxSurge == 0 && maxUnavailable == 0) maxUnavailable = 1;  // validation forbids; be safe

  if (maxSurge == 0) {
    long long unavailable = 0;
    std::vector<ObjectPtr> replace, candidates;
    for (const ObjectPtr& node : nodes) {
      auto it = nodePods.find(nodeNameOf(node));
      if (it == nodePods.end()) continue;
      ObjectPtr newPod, oldPod;
      if (!updatedAndOldOnNode(ds, it->second, hash, newPod, oldPod) || (!newPod && !oldPod) ||
          (newPod && oldPod)) {
        ++unavailable;  // the manage step sorts this node out
      } else if (newPod) {
        if (!isPodAvailable(*newPod, minReady, now)) ++unavailable;
      } else if (!isPodAvailable(*oldPod, minReady, now)) {
        replace.push_back(oldPod);  // not serving anyway: replace it at once
      } else if (unavailable < maxUnavailable) {
        candidates.push_back(oldPod);
      }
    }
    long long budget = std::max(0LL, maxUnavailable - unavailable);
    budget = std::min<long long>(budget, static_cast<long long>(candidates.size()));
    plan.podsToDelete = std::move(replace);
    plan.podsToDelete.insert(plan.podsToDelete.end(), candidates.begin(),
                             candidates.begin() + budget);
    return plan;
  }

  // Surge: start a new pod next to each old one (up to maxSurge at a time, immediately where the
  // old one is unavailable); delete the old pod once its replacement is available.
  long long surging = 0;
  std::vector<std::pair<std::string, ObjectPtr>> surgeCandidates;
  for (const ObjectPtr& node : nodes) {
    std::string name = nodeNameOf(node);
    auto it = nodePods.find(name);
    if (it == nodePods.end()) continue;
    ObjectPtr newPod, oldPod;
    if (!updatedAndOldOnNode(ds, it->second, hash, newPod, oldPod) || !oldPod) continue;
    if (!newPod) {
      if (!isPodAvailable(*oldPod, minReady, now)) {
        if (!nodeShouldRunDaemonPod(*node, ds).shouldRun) {
          plan.podsToDelete.push_back(oldPod);
        } else {
          plan.nodesNeedingPods.push_back(name);
        }
      } else {
        surgeCandidates.emplace_back(name, oldPod);
      }
    } else if (!isPodAvailable(*newPod, minReady, now)) {
      ++surging;  // waiting for the new pod to become available
    } else {
      plan.podsToDelete.push_back(oldPod);
    }
  }
  for (const auto& [name, _] : surgeCandidates) {
    if (surging >= maxSurge) break;
    ++surging;
    plan.nodesNeedingPods.push_back(name);
  }
  return plan;
}

json::object computeStatus(const json::value& ds, const std::vector<ObjectPtr>& nodes,
                           const NodePods& nodePods, const std::string& hash, SystemTime now) {
  long long desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  long long minReady = intAt(specOf(ds), "minReadySeconds").value_or(0);
  for (const ObjectPtr& node : nodes) {
    const std::vector<ObjectPtr>& pods = podsOn(nodePods, nodeNameOf(node));
    bool scheduled = !pods.empty();
    if (!nodeShouldRunDaemonPod(*node, ds).shouldRun) {
      if (scheduled) ++misscheduled;
      continue;
    }
    ++desired;
    if (!scheduled) continue;
    ++current;
    const json::value& oldest = *pods.front();
    if (isPodReady(oldest)) {
      ++ready;
      if (isPodAvailable(oldest, minReady, now)) ++available;
    }
    if (isPodUpdated(oldest, ds, hash)) ++updated;
  }
  return json::object{
      {"currentNumberScheduled", current},       {"numberMisscheduled", misscheduled},
      {"desiredNumberScheduled", desired},       {"numberReady", ready},
      {"updatedNumberScheduled", updated},       {"numberAvailable", available},
      {"numberUnavailable", desired - available}};
}

json::object podTemplateFor(const json::value& ds, const std::string& hash) {
  json::object tmpl = objAt(ds, "spec", "template");
  json::value& spec = tmpl["spec"];
  if (!spec.is_object()) spec = json::object();
  addDaemonTolerations(spec.as_object());
  json::value& meta = tmpl["metadata"];
  if (!meta.is_object()) meta = json::object();
  json::value& labels = meta.as_object()["labels"];
  if (!labels.is_object()) labels = json::object();
  std::string generation =
      strAt(objAt(ds, "metadata", "annotations"), kTemplateGenerationAnnotation);
  if (!generation.empty()) labels.as_object()[kTemplateGenerationLabel] = generation;
  if (!hash.empty()) labels.as_object()[kRevisionHashLabel] = hash;
  return tmpl;
}

}  // namespace berth::controllers::daemonset
