// What an informer's cache costs per object, measured with glibc's own count of bytes in use
// (mallinfo2) over many pods shaped as `bench/memory_scale.sh` leaves them (created bound, then
// Running, managedFields stripped and unread pod fields dropped as the informers do). BENCHMARKS.md
// quotes these figures; the bounds catch a change that makes a cached pod markedly bigger. Each
// figure is the heap growth divided by the pod count, so it includes malloc's per-chunk overhead.
#include <gtest/gtest.h>
#include <malloc.h>

#include <boost/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "client/compact_object.h"
#include "client/indexer.h"
#include "client/object_pool.h"
#include "client/transform.h"

namespace berth::client {
namespace {

namespace json = boost::json;

constexpr int kPods = 5000;

// A Running pod as the API server serves it once the simulated kubelet patched its status
// (admission added the service account volume, tolerations and defaults), ~2.6 KB of JSON.
json::value benchPod(int i) {
  std::string n = std::to_string(i);
  std::string uid = "6f1c2a4e-0b7d-4c1e-9a3f-" + std::string(12 - n.size(), '0') + n;
  std::string vol = "kube-api-access-" + std::string(5 - std::min<size_t>(5, n.size()), 'x') +
                    n.substr(0, std::min<size_t>(5, n.size()));
  return json::parse(R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"bench-)" + n +
                     R"(","namespace":"default","uid":")" + uid +
                     R"(","resourceVersion":")" + std::to_string(100000 + 2 * i) +
                     R"(","creationTimestamp":"2026-11-30T03:04:05Z","labels":{"app":"bench"}},)"
                     R"("spec":{"volumes":[{"name":")" + vol +
                     R"(","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,)"
                     R"("path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":)"
                     R"("ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace",)"
                     R"("fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],)"
                     R"("defaultMode":420}}],"containers":[{"name":"c","image":"busybox",)"
                     R"("resources":{"requests":{"cpu":"10m"}},"volumeMounts":[{"name":")" + vol +
                     R"(","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/)"
                     R"(serviceaccount"}],"terminationMessagePath":"/dev/termination-log",)"
                     R"("terminationMessagePolicy":"File","imagePullPolicy":"Always"}],)"
                     R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,)"
                     R"("dnsPolicy":"ClusterFirst","serviceAccountName":"default",)"
                     R"("serviceAccount":"default","nodeName":"sim-node-)" + std::to_string(i % 1000) +
                     R"(","securityContext":{},"schedulerName":"default-scheduler","tolerations":)"
                     R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":)"
                     R"("NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/)"
                     R"(unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":)"
                     R"(300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":)"
                     R"("PreemptLowerPriority"},"status":{"phase":"Running","conditions":[{"type":)"
                     R"("PodReadyToStartContainers","status":"True","lastProbeTime":null,)"
                     R"("lastTransitionTime":"2026-11-30T03:04:06Z"},{"type":"Initialized",)"
                     R"("status":"True","lastProbeTime":null,"lastTransitionTime":)"
                     R"("2026-11-30T03:04:06Z"},{"type":"Ready","status":"True","lastProbeTime":)"
                     R"(null,"lastTransitionTime":"2026-11-30T03:04:06Z"},{"type":)"
                     R"("ContainersReady","status":"True","lastProbeTime":null,)"
                     R"("lastTransitionTime":"2026-11-30T03:04:06Z"},{"type":"PodScheduled",)"
                     R"("status":"True","lastProbeTime":null,"lastTransitionTime":)"
                     R"("2026-11-30T03:04:05Z"}],"hostIP":"10.1.2.3","hostIPs":[{"ip":"10.1.2.3"}],)"
                     R"("podIP":"10.0.3.)" + std::to_string(i % 250) +
                     R"(","podIPs":[{"ip":"10.0.3.)" + std::to_string(i % 250) +
                     R"("}],"startTime":"2026-11-30T03:04:06Z","containerStatuses":[{"name":"c",)"
                     R"("state":{"running":{"startedAt":"2026-11-30T03:04:06Z"}},"lastState":{},)"
                     R"("ready":true,"restartCount":0,"image":"busybox","imageID":"sim://busybox",)"
                     R"("containerID":"sim://)" + uid + R"(","started":true}],"qosClass":"Burstable"}})");
}

size_t heapInUse() { return mallinfo2().uordblks; }

struct Pods {
  std::vector<ObjectPtr> cached;
  double bytesPerPod = 0;
  size_t jsonBytes = 0;
};

// kPods pods in the informers' cached form (compactObject), and what they add to the heap;
// `trimmed`: after dropUnreadPodFields, as the factories' informers cache them.
Pods cachedPods(bool trimmed) {
  auto make = [&](int i) {
    json::value pod = benchPod(i);
    if (trimmed) dropUnreadPodFields(pod);
    return pod;
  };
  Pods p;
  p.cached.reserve(kPods);
  p.jsonBytes = json::serialize(make(1)).size();
  (void)compactObject(make(kPods));  // names interned once per process, not per pod
  size_t before = heapInUse();
  for (int i = 0; i < kPods; ++i) p.cached.push_back(compactObject(make(i)));
  p.bytesPerPod = double(heapInUse() - before) / kPods;
  return p;
}

TEST(CacheMemory, CachedPodIsAboutItsJson) {
  Pods whole = cachedPods(false);
  std::printf("pod JSON %zu bytes; cached (compactObject) %.0f bytes per pod\n", whole.jsonBytes,
              whole.bytesPerPod);
  // A Boost.JSON tree: 40 bytes per member, 24 per array element, 16 per object header; member
  // names are shared by all objects (compact_object.h): 2.6x the JSON, 3.1x with a copy of
  // every name per object.
  EXPECT_LT(whole.bytesPerPod, 2.8 * whole.jsonBytes);
  Pods trimmed = cachedPods(true);
  std::printf("trimmed (dropUnreadPodFields): JSON %zu bytes; cached %.0f bytes per pod\n",
              trimmed.jsonBytes, trimmed.bytesPerPod);
  EXPECT_LT(trimmed.bytesPerPod, 0.75 * whole.bytesPerPod);  // 0.66 when written
  std::printf("member names interned: %zu bytes for the process\n", internedNameBytes());
  EXPECT_LT(internedNameBytes(), size_t{16} << 10);  // a pod's names, not one copy per pod
}

TEST(CacheMemory, IndexerAndPoolPerPod) {
  Pods p = cachedPods(true);
  size_t before = heapInUse();
  Indexer indexer;  // with its namespace index, as every informer's
  (void)indexer.addIndexers({{"byNode", [](const json::value& pod) {
                                return std::vector<std::string>{
                                    std::string(pod.at("spec").at("nodeName").as_string())};
                              }}});
  for (const auto& obj : p.cached) indexer.upsert(metaNamespaceKey(*obj), obj);
  double indexerBytes = double(heapInUse() - before) / kPods;
  before = heapInUse();
  SharedObjectPool pool;
  const std::string scope = "https://127.0.0.1:6443 /v1/pods -managedFields";
  for (const auto& obj : p.cached) (void)pool.share(scope, obj);
  double poolBytes = double(heapInUse() - before) / kPods;
  std::printf("indexer with 2 indexes %.0f bytes per pod; pool entry %.0f bytes per pod\n",
              indexerBytes, poolBytes);
  EXPECT_EQ(indexer.size(), size_t(kPods));
  // Keys are stored once (the indexes view them) and a pool entry is a hash and a weak pointer.
  EXPECT_LT(indexerBytes, 300);
  EXPECT_LT(poolBytes, 100);
}

}  // namespace
}  // namespace berth::client
