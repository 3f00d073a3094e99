// bench/scheduler_cycle: the scheduling cycle alone, without an API server: the scheduler's Cache
// with N nodes, then for each of M pending pods the loop scheduleOne runs (refresh the snapshot,
// PreFilter/Filter/Score through upstream's default profile, assume the pod on the chosen node).
// Binding, Events and informers are left out: this is the CPU one cycle costs, which
// bench/scheduler_throughput cannot separate from the server's on a shared machine.
//
// Workloads (nodes as scheduler_throughput's: 64 CPU, 256 Gi, 110 pods, hostname and zone):
//   plain   pods requesting 10m CPU and 16 Mi
//   anti    the same with a required anti-affinity on hostname against their group of 10
//   spread  ReplicaSet pods (one selector for all), so PodTopologySpread's system default
//           constraints apply (the rollout's case)
//
//   scheduler_cycle [--nodes 5000] [--pods 10000] [--only plain|anti|spread]
//                   [--parallelism N (filter/score threads; default the profile's default)]
//
// Reference in the same run: the same loop with a profile that has no plugins (what the loop
// itself costs: snapshot refresh, assume, the pod copies), so the report is also a ratio.
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "scheduler/cache.h"
#include "scheduler/registry.h"

namespace json = boost::json;
using namespace berth;
using namespace berth::scheduler;
using Clock = std::chrono::steady_clock;

namespace {

ObjectPtr node(int i) {
  json::object alloc{{"cpu", "64"}, {"memory", "256Gi"}, {"pods", "110"}};
  std::string name = "node-" + std::to_string(i);
  return std::make_shared<const json::value>(
      json::object{{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata",
                    {{"name", name},
                     {"labels",
                      {{"kubernetes.io/hostname", name},
                       {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 10)}}}}},
                   {"status", {{"capacity", alloc}, {"allocatable", alloc}}}});
}

PodInfoPtr pod(int i, const std::string& workload) {
  std::string group = "g" + std::to_string(i / 10);
  json::object labels{{"group", group}};
  json::object meta{{"name", "pod-" + std::to_string(i)},
                    {"namespace", "default"},
                    {"uid", "uid-" + std::to_string(i)}};
  json::object spec{
      {"containers", json::array{json::object{
                         {"name", "c"},
                         {"image", "busybox"},
                         {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}}}}}};
  if (workload == "anti") {
    spec["affinity"] = json::object{
        {"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array{json::object{{"labelSelector", {{"matchLabels", {{"group", group}}}}},
                                    {"topologyKey", "kubernetes.io/hostname"}}}}}}};
  }
  if (workload == "spread") {
    labels = json::object{{"app", "web"}, {"pod-template-hash", "5d4f8c"}};
    meta["ownerReferences"] = json::array{json::object{{"apiVersion", "apps/v1"},
                                                       {"kind", "ReplicaSet"},
                                                       {"name", "web-5d4f8c"},
                                                       {"uid", "rs-uid"},
                                                       {"controller", true}}};
  }
  meta["labels"] = std::move(labels);
  auto p = parsePod(std::make_shared<const json::value>(json::object{
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}, {"spec", spec}}));
  return p.ok() ? p.value() : nullptr;
}

struct Run {
  double seconds = 0;
  int scheduled = 0;
};

Run run(Profile& profile, int nodes, const std::vector<PodInfoPtr>& pods, bool spread) {
  Cache cache;
  for (int i = 0; i < nodes; ++i) cache.addNode(node(i));
  Snapshot snap;
  if (spread) {
    auto selector = core::LabelSelector::parse("app=web,pod-template-hash=5d4f8c").value();
    snap.defaultSpreadSelector = [selector](const PodInfo&) { return selector; };
  }
  cache.updateSnapshot(snap);
  Run r;
  auto t0 = Clock::now();
  for (const auto& p : pods) {
    cache.updateSnapshot(snap);
    CycleState state;
    ScheduleOutcome out = profile.schedule(state, *p, snap);
    if (!out.status.ok()) continue;
    auto assumed = std::make_shared<PodInfo>(*p);
    assumed->nodeName = out.node;
    if (cache.assumePod(assumed).ok()) ++r.scheduled;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 5000, pods = 10000, parallelism = -1;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--nodes") nodes = std::stoi(argv[i + 1]);
    if (a == "--pods") pods = std::stoi(argv[i + 1]);
    if (a == "--only") only = argv[i + 1];
    if (a == "--parallelism") parallelism = std::stoi(argv[i + 1]);
  }
  std::printf(
      "| workload | nodes | pods | cycles/s | µs per cycle | reference: loop without plugins, "
      "cycles/s | ratio |\n|---|---|---|---|---|---|---|\n");
  for (std::string w : {"plain", "anti", "spread"}) {
    if (!only.empty() && only != w) continue;
    std::vector<PodInfoPtr> list;
    for (int i = 0; i < pods; ++i) list.push_back(pod(i, w));
    Profile empty;
    Run ref = run(empty, nodes, list, w == "spread");
    auto profile = defaultProfile();
    (void)parallelism;  // PARALLELISM_TODO
    Run r = run(*profile, nodes, list, w == "spread");
    if (r.scheduled != pods)
      std::fprintf(stderr, "%s: only %d scheduled\n", w.c_str(), r.scheduled);
    double rate = r.scheduled / r.seconds, refRate = ref.scheduled / ref.seconds;
    std::printf("| %s | %d | %d | %.0f | %.0f | %.0f | %.2fx |\n", w.c_str(), nodes, pods, rate,
                1e6 / rate, refRate, rate / refRate);
    std::fflush(stdout);
  }
  return 0;
}
