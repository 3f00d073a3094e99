// One scheduling cycle (upstream's schedule_one.go): pop, snapshot, filter/score through the
// profile, assume and reserve, then bind on a pool thread; or, when nothing fits, PostFilter
// (preemption) and the failure report (PodScheduled=False, FailedScheduling event, requeue).
#include <boost/json.hpp>

#include <chrono>
#include <iostream>

#include "client/leader_election.h"
#include "core/json_access.h"
#include "scheduler/scheduler_internal.h"

namespace berth::scheduler {

namespace json = boost::json;

namespace {

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The pod's current PodScheduled condition message ("" when none or True).
std::string currentUnschedulableMessage(const PodInfo& pod) {
  const auto* status = core::objectField(pod.object->as_object(), "status");
  const auto* conds = status ? status->if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array()) return "";
  for (const auto& c : conds->as_array()) {
    if (!c.is_object() || core::stringField(c.as_object(), "type") != "PodScheduled") continue;
    if (core::stringField(c.as_object(), "status") != "False") return "";
    return core::stringField(c.as_object(), "message");
  }
  return "";
}

}  // namespace

void Scheduler::Impl::runLoop() {
  while (running) {
    auto qp = queue->pop(std::chrono::milliseconds(200));
    if (!qp) continue;
    scheduleOne(std::move(*qp));
  }
}

void Scheduler::Impl::scheduleOne(QueuedPod qp) {
  auto start = std::chrono::steady_clock::now();
  const PodInfo& pod = *qp.pod;
  const std::string& profileName = options.schedulerName;
  // Skip what is no longer ours to schedule (upstream's skipPodSchedule).
  if (pod.terminating || !pod.nodeName.empty() || cache->isAssumed(pod.uid)) {
    queue->done(pod.key());
    return;
  }
  cache->updateSnapshot(snapshot);
  auto state = std::make_shared<CycleState>();
  ScheduleOutcome outcome = profile->schedule(*state, pod, snapshot);
  if (!outcome.status.ok()) {
    std::string result = outcome.status.rejected() ? "unschedulable" : "error";
    std::string message;
    std::string nominatedNode;
    if (outcome.status.rejected() && outcome.numNodes == 0) {
      message = "no nodes available to schedule pods";
    } else if (outcome.status.rejected()) {
      metrics->preemptionAttempts.get().inc();
      PostFilterResult r = profile->runPostFilter(*state, pod, snapshot, outcome.statuses);
      std::string postMsg = r.status.reasons.empty() ? "" : r.status.reasons.front();
      if (r.status.ok()) {
        nominatedNode = r.nominatedNodeName;
        metrics->preemptionVictims.get().observe(r.victims);
      }
      message = fitErrorMessage(outcome.numNodes, outcome.statuses, outcome.preFilterMsg, postMsg);
    } else {
      for (const auto& m : outcome.status.reasons) message += (message.empty() ? "" : "; ") + m;
    }
    handleFailure(std::move(qp), outcome, message, nominatedNode, outcome.status.rejected());
    metrics->attempts.with({result, profileName}).inc();
    metrics->attemptDuration.with({result, profileName}).observe(secondsSince(start));
    return;
  }
  auto assumed = std::make_shared<PodInfo>(pod);
  assumed->nodeName = outcome.node;
  if (auto st = cache->assumePod(assumed); !st.ok()) {
    handleFailure(std::move(qp), outcome, st.message(), "", false);
    metrics->attempts.with({"error", profileName}).inc();
    return;
  }
  if (PluginStatus st = profile->runReserve(*state, pod, outcome.node); !st.ok()) {
    profile->runUnreserve(*state, pod, outcome.node);
    cache->forgetPod(pod.uid);
    std::string msg = st.reasons.empty() ? "reserve failed" : st.reasons.front();
    handleFailure(std::move(qp), outcome, msg, "", !st.rejected() ? false : true);
    metrics->attempts.with({"error", profileName}).inc();
    return;
  }
  binders.post([this, qp = std::move(qp), assumed, state, start]() mutable {
    bind(std::move(qp), assumed, state, start);
  });
}

void Scheduler::Impl::bind(QueuedPod qp, PodInfoPtr assumed, std::shared_ptr<CycleState>,
                           std::chrono::steady_clock::time_point cycleStart) {
  const PodInfo& pod = *qp.pod;
  json::value binding = json::object{
      {"apiVersion", "v1"},
      {"kind", "Binding"},
      {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"uid", pod.uid}}},
      {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", assumed->nodeName}}}};
  auto r = client->create(kPods, pod.ns, binding, "binding");
  const std::string& profileName = options.schedulerName;
  if (!r.ok()) {
    cache->forgetPod(pod.uid);
    metrics->attempts.with({"error", profileName}).inc();
    metrics->attemptDuration.with({"error", profileName}).observe(secondsSince(cycleStart));
    if (r.status().isNotFound()) {
      queue->done(pod.key());
      return;
    }
    handleFailure(std::move(qp), {}, "binding rejected: " + r.status().message(), "", false);
    return;
  }
  cache->finishBinding(pod.uid);
  queue->done(pod.key());
  clearNominated(pod.key());
  ++bound;
  metrics->attempts.with({"scheduled", profileName}).inc();
  metrics->attemptDuration.with({"scheduled", profileName}).observe(secondsSince(cycleStart));
  metrics->sliDuration.with({std::to_string(qp.attempts)}).observe(secondsSince(qp.initialAttempt));
  recorder->record(podRef(pod), "Normal", "Scheduled",
                   "Successfully assigned " + pod.ns + "/" + pod.name + " to " + assumed->nodeName);
}

void Scheduler::Impl::handleFailure(QueuedPod qp, const ScheduleOutcome&,
                                    const std::string& message, const std::string& nominatedNode,
                                    bool unschedulable) {
  PodInfoPtr pod = qp.pod;
  queue->addUnschedulable(std::move(qp), unschedulable);
  if (!nominatedNode.empty()) setNominated(pod, nominatedNode);
  recorder->record(podRef(*pod), "Warning", "FailedScheduling", message);
  // Write the condition only when it changes (each write is an update every watcher sees).
  bool nominationChanged = !nominatedNode.empty() && nominatedNode != pod->nominatedNodeName;
  if (currentUnschedulableMessage(*pod) == message && !nominationChanged) return;
  json::object status{
      {"conditions",
       json::array{json::object{{"type", "PodScheduled"},
                                {"status", "False"},
                                {"reason", unschedulable ? "Unschedulable" : "SchedulerError"},
                                {"message", message},
                                {"lastProbeTime", nullptr},
                                {"lastTransitionTime", client::nowTime()}}}}};
  if (!nominatedNode.empty()) status["nominatedNodeName"] = nominatedNode;
  std::string body = json::serialize(json::object{{"status", std::move(status)}});
  binders.post([this, pod, body] {
    client::PatchOptions opts;
    opts.subresource = "status";
    auto r =
        client->patch(kPods, pod->ns, pod->name, client::PatchType::kStrategicMerge, body, opts);
    if (!r.ok() && !r.status().isNotFound()) {
      std::cerr << "berth scheduler: cannot update status of pod " << pod->key() << ": "
                << r.status().message() << "\n";
    }
  });
}

void Scheduler::Impl::setNominated(const PodInfoPtr& pod, const std::string& node) {
  std::lock_guard lock(nominatedMu);
  for (auto& [n, pods] : nominated) pods.erase(pod->key());
  auto copy = std::make_shared<PodInfo>(*pod);
  copy->nominatedNodeName = node;
  nominated[node][pod->key()] = std::move(copy);
}

void Scheduler::Impl::clearNominated(const std::string& key) {
  std::lock_guard lock(nominatedMu);
  for (auto it = nominated.begin(); it != nominated.end();) {
    it->second.erase(key);
    it = it->second.empty() ? nominated.erase(it) : std::next(it);
  }
}

std::vector<PodInfoPtr> Scheduler::Impl::nominatedPods(const std::string& node) const {
  std::lock_guard lock(nominatedMu);
  std::vector<PodInfoPtr> out;
  if (auto it = nominated.find(node); it != nominated.end())
    for (const auto& [key, pod] : it->second) out.push_back(pod);
  return out;
}

void Scheduler::Impl::evictVictim(const PodInfo& victim, const PodInfo& preemptor,
                                  const std::string& node) {
  json::value ref = podRef(victim);
  std::string ns = victim.ns, name = victim.name;
  std::string message = "Preempted by pod " + preemptor.uid + " on node " + node;
  // Upstream marks the victim before deleting it so its owner (and anyone watching) can tell a
  // preemption from other deletions: DisruptionTarget=True, reason PreemptionByScheduler.
  json::object condition{
      {"type", "DisruptionTarget"},
      {"status", "True"},
      {"reason", "PreemptionByScheduler"},
      {"message", preemptor.schedulerName + ": preempting to accommodate a higher priority pod"},
      {"lastTransitionTime", client::nowTime()}};
  std::string patch = json::serialize(
      json::object{{"status", {{"conditions", json::array{std::move(condition)}}}}});
  binders.post([this, ref, ns, name, message, patch] {
    client::PatchOptions opts;
    opts.subresource = "status";
    auto marked = client->patch(kPods, ns, name, client::PatchType::kStrategicMerge, patch, opts);
    if (!marked.ok()) {
      if (!marked.status().isNotFound())
        std::cerr << "berth scheduler: cannot add DisruptionTarget to preemption victim " << ns
                  << "/" << name << ": " << marked.status().message() << "\n";
      return;
    }
    auto r = client->remove(kPods, ns, name);
    if (!r.ok() && !r.status().isNotFound()) {
      std::cerr << "berth scheduler: cannot delete preemption victim " << ns << "/" << name << ": "
                << r.status().message() << "\n";
      return;
    }
    recorder->record(ref, "Normal", "Preempted", message);
  });
}

}  // namespace berth::scheduler
