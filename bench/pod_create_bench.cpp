// The registry's create path with and without the admission chain, in process (no HTTP, TLS or
// store latency; the watch cache applies events on its own thread, not counted): what
// bench/rbac_throughput.py's pod and ConfigMap creates pay per request in Registry::create.
//   BM_Create/<kind>/<chain>: kind 0 = the bare pod bench/api/load.lua posts, 1 = that pod as
//   the ServiceAccount/Priority/DefaultTolerationSeconds plugins leave it (kube-api-access
//   volume and mounts, tolerations, priority), 2 = a small ConfigMap; chain 0 = no plugins,
//   1 = the default plugins as `berth server` installs them.
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

}  // namespace

BENCHMARK_MAIN();
