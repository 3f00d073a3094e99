#include "scheduler/scheduler.h"

#include <unistd.h>

#include <boost/json.hpp>

#include <iostream>
#include <random>

#include "core/json_access.h"
#include "scheduler/default_selector.h"
#include "scheduler/registry.h"
#include "scheduler/scheduler_internal.h"
#include "scheduler/volume_cluster.h"

namespace berth::scheduler {

namespace json = boost::json;

namespace {

std::string defaultIdentity() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", rd());
  return std::string(host) + suffix;
}

// The parts of a Node that scheduling decisions read; a change elsewhere (heartbeats,
// conditions' timestamps) is not a reason to retry unschedulable pods.
std::string schedulingRelevant(const json::value& node) {
  const auto& o = node.as_object();
  json::object rel;
  if (auto* m = core::objectField(o, "metadata"); m && m->contains("labels"))
    rel["labels"] = m->at("labels");
  if (auto* s = o.if_contains("spec")) rel["spec"] = *s;
  if (auto* st = core::objectField(o, "status"); st && st->contains("allocatable"))
    rel["allocatable"] = st->at("allocatable");
  return json::serialize(rel);
}

// Whether a pending pod's update may change where it fits (upstream's isPodUpdated: changes
// of status, resourceVersion and managedFields alone are not).
bool podSpecChanged(const json::value& oldPod, const json::value& newPod) {
  auto part = [](const json::value& p) {
    const auto& o = p.as_object();
    json::object rel;
    if (auto* m = core::objectField(o, "metadata")) {
      if (m->contains("labels")) rel["labels"] = m->at("labels");
      if (m->contains("annotations")) rel["annotations"] = m->at("annotations");
    }
    if (auto* s = o.if_contains("spec")) rel["spec"] = *s;
    return json::serialize(rel);
  };
  return part(oldPod) != part(newPod);
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

}  // namespace

void TaskPool::start(int threads) {
  std::lock_guard lock(mu_);
  stopping_ = false;
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock l(mu_);
          cv_.wait(l, [&] { return stopping_ || !tasks_.empty(); });
          if (tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
      }
    });
  }
}

void TaskPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

SchedulerMetrics::SchedulerMetrics(metrics::Registry& r)
    : attempts(r.counter("scheduler_schedule_attempts_total",
                         "Number of attempts to schedule pods, by the result. 'unschedulable' "
                         "means a pod could not be scheduled, while 'error' means an internal "
                         "scheduler problem.",
                         {"result", "profile"})),
      attemptDuration(r.histogram("scheduler_scheduling_attempt_duration_seconds",
                                  "Scheduling attempt latency in seconds (scheduling algorithm + "
                                  "binding)",
                                  {"result", "profile"}, exponentialBuckets(0.001, 2, 15))),
      sliDuration(r.histogram("scheduler_pod_scheduling_sli_duration_seconds",
                              "E2e latency for a pod being scheduled, from the time the pod "
                              "enters the scheduling queue and might involve multiple scheduling "
                              "attempts.",
                              {"attempts"}, exponentialBuckets(0.01, 2, 20))),
      preemptionAttempts(r.counter("scheduler_preemption_attempts_total",
                                   "Total preemption attempts in the cluster till now")),
      preemptionVictims(r.histogram("scheduler_preemption_victims",
                                    "Number of selected preemption victims", {},
                                    exponentialBuckets(1, 2, 7))) {}

json::value podRef(const PodInfo& pod) {
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata",
                       {{"name", pod.name},
                        {"namespace", pod.ns},
                        {"uid", pod.uid},
                        {"resourceVersion", pod.resourceVersion}}}};
}

core::Result<PodInfoPtr> Scheduler::Impl::podInfo(const client::ObjectPtr& obj) const {
  auto p = parsePod(obj);
  if (!p.ok() || !p.value()->priorityUnset || p.value()->priorityClassName.empty()) return p;
  auto pc = informers->forResource(kPriorityClasses).lister().get("", p.value()->priorityClassName);
  auto* value = pc ? pc->as_object().if_contains("value") : nullptr;
  if (!value || !value->is_int64()) return p;
  auto resolved = std::make_shared<PodInfo>(*p.value());
  resolved->priority = static_cast<int32_t>(value->as_int64());
  return PodInfoPtr(std::move(resolved));
}

void Scheduler::Impl::addHandlers() {
  informers->forResource(kPriorityClasses);
  auto& pods = informers->forResource(kPods);
  client::EventHandler podHandler;
  podHandler.onAdd = [this](const client::ObjectPtr& obj) {
    auto p = podInfo(obj);
    if (!p.ok()) return;
    PodInfoPtr pod = std::move(p).value();
    if (!pod->nodeName.empty()) {
      if (!pod->finished) cache->addPod(pod);
    } else if (responsibleFor(*pod) && !pod->terminating) {
      queue->add(pod);
      if (!pod->nominatedNodeName.empty()) setNominated(pod, pod->nominatedNodeName);
    }
  };
  podHandler.onUpdate = [this](const client::ObjectPtr& old, const client::ObjectPtr& obj) {
    auto p = podInfo(obj);
    if (!p.ok()) return;
    PodInfoPtr pod = std::move(p).value();
    if (!pod->nodeName.empty()) {
      queue->remove(pod->key());
      clearNominated(pod->key());
      if (pod->finished) {
        cache->removePod(*pod);
        queue->moveAllToActiveOrBackoff();  // its resources are free again
      } else {
        cache->updatePod(pod);
      }
    } else if (responsibleFor(*pod)) {
      if (pod->terminating) {
        queue->remove(pod->key());
        clearNominated(pod->key());
      } else {
        queue->update(pod, podSpecChanged(*old, *obj));
      }
    }
  };
  podHandler.onDelete = [this](const client::DeletedObject& d) {
    auto p = podInfo(d.object);
    if (!p.ok()) return;
    PodInfoPtr pod = std::move(p).value();
    clearNominated(pod->key());
    if (!pod->nodeName.empty() || cache->pod(pod->uid)) {
      if (auto cached = cache->pod(pod->uid)) cache->removePod(*cached);
      queue->moveAllToActiveOrBackoff();
    }
    queue->remove(pod->key());
  };
  pods.addEventHandler(std::move(podHandler));

  auto& nodes = informers->forResource(kNodes);
  client::EventHandler nodeHandler;
  nodeHandler.onAdd = [this](const client::ObjectPtr& obj) {
    cache->addNode(obj);
    queue->moveAllToActiveOrBackoff();
  };
  nodeHandler.onUpdate = [this](const client::ObjectPtr& old, const client::ObjectPtr& obj) {
    cache->updateNode(obj);
    if (schedulingRelevant(*old) != schedulingRelevant(*obj)) queue->moveAllToActiveOrBackoff();
  };
  nodeHandler.onDelete = [this](const client::DeletedObject& d) {
    cache->removeNode(std::string(client::objectName(*d.object)));
  };
  nodes.addEventHandler(std::move(nodeHandler));

  auto& namespaces = informers->forResource(kNamespaces);
  client::EventHandler nsHandler;
  nsHandler.onAdd = [this](const client::ObjectPtr& obj) {
    cache->setNamespaceLabels(std::string(client::objectName(*obj)),
                              core::labelsOf(obj->as_object()));
  };
  nsHandler.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr& obj) {
    cache->setNamespaceLabels(std::string(client::objectName(*obj)),
                              core::labelsOf(obj->as_object()));
  };
  nsHandler.onDelete = [this](const client::DeletedObject& d) {
    cache->removeNamespace(std::string(client::objectName(*d.object)));
  };
  namespaces.addEventHandler(std::move(nsHandler));
}

void Scheduler::Impl::startScheduling() {
  std::lock_guard lock(runMu);
  if (running) return;
  cache = std::make_unique<Cache>();
  queue = std::make_unique<SchedulingQueue>();
  snapshot = Snapshot{};
  informers = std::make_unique<client::SharedInformerFactory>(*client, std::chrono::minutes(0));
  // A claim, volume or class that changes may let a pod waiting on its volumes fit.
  profile = defaultProfile(
      options.schedulerName,
      newInformerVolumeCluster(*client, *informers, [this] { queue->moveAllToActiveOrBackoff(); }));
  profile->setPercentageOfNodesToScore(options.percentageOfNodesToScore);
  // Preemption reads the budgets when it runs (upstream's DefaultPreemption PDB lister).
  auto pdbs = informers->forResource(kPodDisruptionBudgets).lister();
  profile->setHooks(
      {[this](const PodInfo& v, const PodInfo& p, const std::string& n) { evictVictim(v, p, n); },
       [this](const std::string& n) { return nominatedPods(n); },
       [pdbs] {
         std::vector<DisruptionBudget> out;
         for (const auto& o : pdbs.list("")) out.push_back(parseDisruptionBudget(*o));
         return out;
       },
       [this] {
         std::lock_guard lock(nominatedMu);
         return !nominated.empty();
       }});
  addHandlers();
  // Listers for PodTopologySpread's default constraints.
  auto services = informers->forResource(kServices).lister();
  auto replicaSets = informers->forResource(kReplicaSets).lister();
  auto statefulSets = informers->forResource(kStatefulSets).lister();
  snapshot.defaultSpreadSelector = [services, replicaSets, statefulSets](const PodInfo& pod) {
    return defaultSpreadSelector(pod, services, replicaSets, statefulSets);
  };
  informers->start();
  if (!informers->waitForCacheSync(std::chrono::seconds(60)))
    std::cerr << "berth scheduler: caches did not sync within 60 s; starting anyway\n";
  running = true;
  binders.start(options.bindWorkers);
  loop = std::thread([this] { runLoop(); });
}

void Scheduler::Impl::stopScheduling() {
  std::lock_guard lock(runMu);
  if (!running) return;
  running = false;
  queue->close();
  if (loop.joinable()) loop.join();
  binders.stop();
  informers->shutdown();
  informers.reset();
}

Scheduler::Scheduler(SchedulerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.identity.empty()) impl_->options.identity = defaultIdentity();
  if (impl_->options.metrics) {
    impl_->registry = impl_->options.metrics;
  } else {
    impl_->ownMetrics = std::make_unique<metrics::Registry>();
    impl_->registry = impl_->ownMetrics.get();
  }
  impl_->metrics = std::make_unique<SchedulerMetrics>(*impl_->registry);
  Impl* impl = impl_.get();
  // Pending pods per sub-queue, read at scrape time (0 while not leading).
  impl_->registry->computed(
      "scheduler_pending_pods",
      "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; "
      "'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in "
      "unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the "
      "number of unschedulable pods that the scheduler never attempted to schedule because "
      "they are gated.",
      metrics::Type::kGauge, {"queue"}, [impl]() -> std::vector<metrics::Sample> {
        std::lock_guard lock(impl->runMu);
        double a = 0, b = 0, u = 0;
        if (impl->running && impl->queue) {
          a = static_cast<double>(impl->queue->activeSize());
          b = static_cast<double>(impl->queue->backoffSize());
          u = static_cast<double>(impl->queue->unschedulableSize());
        }
        return {{{"active"}, a}, {{"backoff"}, b}, {{"gated"}, 0}, {{"unschedulable"}, u}};
      });
}

Scheduler::~Scheduler() { stop(); }

core::Status Scheduler::start() {
  auto rest = impl_->options.rest;
  if (rest.userAgent == "berth-client") rest.userAgent = "berth-scheduler/v0.1";
  // Binding is one call per pod; upstream's scheduler defaults (50/100) would cap throughput
  // far below what one server can take.
  rest.qps = std::max(rest.qps, 5000.0);
  rest.burst = std::max(rest.burst, 10000);
  rest.maxIdleConnections = std::max(rest.maxIdleConnections, impl_->options.bindWorkers + 4);
  auto client = client::RestClient::create(rest);
  if (!client.ok()) return client.status();
  impl_->client = std::move(client.value());
  impl_->recorder =
      std::make_unique<client::EventRecorder>(*impl_->client, impl_->options.schedulerName);
  if (!impl_->options.leaderElect) {
    impl_->startScheduling();
    return {};
  }
  client::LeaderElectionConfig le;
  le.leaseNamespace = "kube-system";
  le.leaseName = "kube-scheduler";
  le.identity = impl_->options.identity;
  le.onStartedLeading = [this] {
    std::lock_guard lock(impl_->starterMu);
    if (impl_->starter.joinable()) impl_->starter.join();
    impl_->starter = std::thread([this] { impl_->startScheduling(); });
  };
  le.onStoppedLeading = [this] { impl_->stopScheduling(); };
  impl_->elector = std::make_unique<client::LeaderElector>(*impl_->client, le);
  impl_->elector->start();
  return {};
}

void Scheduler::stop() {
  if (impl_->elector) impl_->elector->stop();
  {
    std::lock_guard lock(impl_->starterMu);
    if (impl_->starter.joinable()) impl_->starter.join();
  }
  impl_->stopScheduling();
  if (impl_->recorder) impl_->recorder->flush();
}

bool Scheduler::leading() const {
  return !impl_->options.leaderElect || (impl_->elector && impl_->elector->isLeader());
}

long long Scheduler::boundCount() const { return impl_->bound.load(); }

}  // namespace berth::scheduler
