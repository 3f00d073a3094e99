// The registry's create path with and without the admission chain, in process (no HTTP, TLS or
// store latency; the watch cache applies events on its own thread, not counted): what
// bench/rbac_throughput.py's pod and ConfigMap creates pay per request in Registry::create.
//   BM_Create/<kind>/<chain>: kind 0 = the bare pod bench/api/load.lua posts, 1 = that pod as
//   the ServiceAccount/Priority/DefaultTolerationSeconds plugins leave it (kube-api-access
//   volume and mounts, tolerations, priority), 2 = a small ConfigMap; chain 0 = no plugins,
//   1 = the default plugins as `berth server` installs them.
// BM_PodStatusPatch/<chain> and BM_Bind/<chain>: the two other writes every pod of a rollout
// costs (bench/rollout_scale.sh): a simulated kubelet's strategic-merge status patch to Running
// (as src/simulate/node_objects.cpp builds it) of a bound admitted pod, and the scheduler's
// pods/binding of a new pod.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission_reader.h"
#include "apiserver/quota_access.h"
#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"
#include "apiserver/webhook_source.h"
#include "store/memory/memory_store.h"

namespace {
namespace json = boost::json;
using namespace berth;
using namespace berth::apiserver;

const core::ResourceType& type(const char* group, const char* plural) {
  return *core::findResource(group, "v1", plural);
}

constexpr const char* kBarePod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"bench"}},)"
    R"("spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}})";
constexpr const char* kAdmittedPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"bench"}},"spec":{)"
    R"("containers":[{"name":"c","image":"busybox:1.36","volumeMounts":[{"name":)"
    R"("kube-api-access-abcde","readOnly":true,"mountPath":)"
    R"("/var/run/secrets/kubernetes.io/serviceaccount"}]}],"serviceAccountName":"default",)"
    R"("serviceAccount":"default","volumes":[{"name":"kube-api-access-abcde","projected":{)"
    R"("defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":)"
    R"("token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":)"
    R"("ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":)"
    R"("v1","fieldPath":"metadata.namespace"}}]}}]}}],"priority":0,"preemptionPolicy":)"
    R"("PreemptLowerPriority","tolerations":[{"key":"node.kubernetes.io/not-ready",)"
    R"("operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":)"
    R"("node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",)"
    R"("tolerationSeconds":300}]}})";
constexpr const char* kConfigMap =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{},"data":{"k":"v"}})";

struct Server {
  explicit Server(bool chain) {
    (void)cache.start();
    (void)registry.bootstrap("127.0.0.1", 6443);
    WriteOptions wo;
    wo.fieldManager = "bench";
    (void)registry.create(type("", "namespaces"), "",
                          json::parse(R"({"metadata":{"name":"bench"}})").as_object(), wo);
    (void)registry.create(type("", "serviceaccounts"), "bench",
                          json::parse(R"({"metadata":{"name":"default"}})").as_object(), wo);
    if (!chain) return;
    admission::PluginDeps deps;
    deps.reader = &reader;
    deps.external["MutatingAdmissionWebhook"] = [this] {
      return admission::newAdmissionWebhooks(newRegistryWebhookSource(registry));
    };
    deps.external["ResourceQuota"] = [this] {
      return admission::newResourceQuota(newRegistryQuotaAccess(registry));
    };
    (void)admission::installBuiltinPlugins(admissionChain, deps, {}, {});
    registry.setAdmission(&admissionChain);
  }
  ~Server() {
    registry.stop();
    cache.stop();
  }
  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  CacheObjectReader reader{cache};
  admission::Chain admissionChain;
};

void BM_Create(benchmark::State& state) {
  int kind = static_cast<int>(state.range(0));
  Server server(state.range(1) != 0);
  const auto& rt = kind == 2 ? type("", "configmaps") : type("", "pods");
  json::object proto = json::parse(kind == 0   ? kBarePod
                                   : kind == 1 ? kAdmittedPod
                                               : kConfigMap)
                           .as_object();
  WriteOptions wo;
  wo.fieldManager = "wrk";
  wo.requester = {"admin", {"system:masters"}, "", {}};
  long n = 0;
  for (auto _ : state) {
    json::object obj = proto;
    obj["metadata"].as_object()["name"] = "o-" + std::to_string(n++);
    auto r = server.registry.create(rt, "bench", std::move(obj), wo);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Create)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"kind", "chain"});
// The same with the whole process's CPU: adds the watch cache's decode of each stored object
// (on the store's dispatcher thread), which every create pays in the server too.
BENCHMARK(BM_Create)
    ->Name("BM_CreateAndCache")
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"kind", "chain"})
    ->MeasureProcessCPUTime();

// A kubelet's status patch making a pod Running (runningPodStatusPatch's shape) at `now`.
json::value runningStatusPatch(const std::string& uid, const std::string& now) {
  json::array conditions;
  for (const char* t :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    conditions.push_back(json::object{
        {"type", t}, {"status", "True"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}});
  }
  json::object container{{"name", "c"},
                         {"image", "docker.io/library/busybox:1.36"},
                         {"imageID", "docker.io/library/busybox@sha256:0123456789abcdef"},
                         {"containerID", "containerd://fedcba9876543210"},
                         {"restartCount", 0},
                         {"lastState", json::object()},
                         {"state", {{"running", {{"startedAt", now}}}}},
                         {"ready", true},
                         {"started", true}};
  json::object status{
      {"phase", "Running"},     {"conditions", std::move(conditions)},
      {"hostIP", "10.128.0.1"}, {"hostIPs", json::array{json::object{{"ip", "10.128.0.1"}}}},
      {"podIP", "10.244.1.2"},  {"podIPs", json::array{json::object{{"ip", "10.244.1.2"}}}},
      {"startTime", now},       {"containerStatuses", json::array{std::move(container)}}};
  return json::object{{"metadata", {{"uid", uid}}}, {"status", std::move(status)}};
}

// An admitted pod as the ReplicaSet controller creates it (owner, template hash), `node` bound.
json::object rolloutPod(const std::string& name, const std::string& node) {
  json::object pod = json::parse(kAdmittedPod).as_object();
  auto& meta = pod["metadata"].as_object();
  meta["name"] = name;
  meta["labels"] = json::object{{"app", "bench"}, {"pod-template-hash", "5d8f7c9b6"}};
  meta["ownerReferences"] =
      json::array{json::object{{"apiVersion", "apps/v1"},
                               {"kind", "ReplicaSet"},
                               {"name", "bench-5d8f7c9b6"},
                               {"uid", "0f9d6a7e-1111-2222-3333-444455556666"},
                               {"controller", true},
                               {"blockOwnerDeletion", true}}};
  auto& spec = pod["spec"].as_object();
  spec["containers"].as_array()[0].as_object()["resources"] =
      json::object{{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}};
  if (!node.empty()) spec["nodeName"] = node;
  return pod;
}

void BM_PodStatusPatch(benchmark::State& state) {
  Server server(state.range(0) != 0);
  const auto& rt = type("", "pods");
  WriteOptions create;
  create.fieldManager = "kube-controller-manager";
  constexpr int kPods = 256;
  std::vector<std::string> uids;
  for (int i = 0; i < kPods; ++i) {
    auto r =
        server.registry.create(rt, "bench", rolloutPod("p-" + std::to_string(i), "n-1"), create);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    uids.push_back(r->at("metadata").at("uid").as_string().c_str());
  }
  WriteOptions wo;
  wo.fieldManager = "berth";
  wo.subresource = "status";
  wo.requester = {"system:node:n-1", {"system:nodes"}, "", {}};
  long n = 0;
  for (auto _ : state) {
    int i = static_cast<int>(n % kPods);
    // A new time each round: every patch changes the pod, as each kubelet status write does.
    PatchRequest pr{
        PatchType::kStrategic,
        runningStatusPatch(uids[i], "2026-11-30T05:" + std::to_string(10 + n / kPods % 50) + ":" +
                                        std::to_string(10 + n % 50) + "Z")};
    ++n;
    std::string stored;
    wo.storedJson = &stored;
    auto r = server.registry.patch(rt, "bench", "p-" + std::to_string(i), pr, wo);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PodStatusPatch)->Arg(0)->Arg(1)->ArgNames({"chain"})->MeasureProcessCPUTime();

void BM_Bind(benchmark::State& state) {
  Server server(state.range(0) != 0);
  const auto& rt = type("", "pods");
  WriteOptions create;
  create.fieldManager = "kube-controller-manager";
  WriteOptions wo;
  wo.requester = {"system:kube-scheduler", {}, "", {}};
  json::object binding{{"apiVersion", "v1"},
                       {"kind", "Binding"},
                       {"metadata", {{"name", ""}}},
                       {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n-1"}}}};
  long n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string name = "b-" + std::to_string(n++);
    auto made = server.registry.create(rt, "bench", rolloutPod(name, ""), create);
    binding["metadata"].as_object()["name"] = name;
    state.ResumeTiming();
    if (!made.ok()) {
      state.SkipWithError(made.status().message().c_str());
      break;
    }
    auto r = server.registry.bind("bench", name, binding, wo);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Bind)->Arg(0)->Arg(1)->ArgNames({"chain"});

}  // namespace

BENCHMARK_MAIN();
