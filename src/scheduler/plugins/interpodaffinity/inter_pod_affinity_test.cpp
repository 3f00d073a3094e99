#include "scheduler/plugins/interpodaffinity/inter_pod_affinity.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

NodeInfo zoned(const std::string& name, const std::string& zone) {
  return testing::simpleNode(name, "4", "8Gi",
                             R"({"kubernetes.io/hostname":")" + name +
                                 R"(","topology.kubernetes.io/zone":")" + zone + R"("})");
}

PodInfoPtr labelled(const std::string& name, const std::string& app, const std::string& node,
                    const std::string& affinity = "") {
  auto p = testing::pod(R"({"metadata":{"name":")" + name + R"(","labels":{"app":")" + app +
                        R"("}},"spec":{)" + (affinity.empty() ? "" : R"("affinity":)" + affinity) +
                        "}}");
  return node.empty() ? p : testing::onNode(p, node);
}

std::string term(const std::string& kind, const std::string& mode, const std::string& app,
                 const std::string& key) {
  std::string t = R"({"labelSelector":{"matchLabels":{"app":")" + app + R"("}},"topologyKey":")" +
                  key + R"("})";
  if (mode == "preferred") t = R"({"weight":50,"podAffinityTerm":)" + t + "}";
  std::string field = mode == "preferred" ? "preferredDuringSchedulingIgnoredDuringExecution"
                                          : "requiredDuringSchedulingIgnoredDuringExecution";
  return R"({")" + kind + R"(":{")" + field + R"(":[)" + t + "]}}";
}

// Runs PreFilter and Filter for `pod` on every node; returns the verdicts by node name.
std::map<std::string, PluginStatus> filterAll(const PodInfo& pod, const Snapshot& snap) {
  InterPodAffinity pl;
  CycleState s;
  std::map<std::string, PluginStatus> out;
  auto pre = pl.preFilter(s, pod, snap);
  for (const auto& n : snap.nodes)
    out[n->name] = pre.code == Code::kSkip ? PluginStatus{} : pl.filter(s, pod, *n);
  return out;
}

TEST(InterPodAffinity, RequiredAntiAffinityByHostname) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z1");
  a.addPod(labelled("web-1", "web", "a"));
  auto snap = Snapshot::of({a, b});
  auto pod = labelled("web-2", "web", "", term("podAntiAffinity", "required", "web", "kubernetes.io/hostname"));
  auto r = filterAll(*pod, snap);
  EXPECT_EQ(r["a"].reasons, std::vector<std::string>{"node(s) didn't match pod anti-affinity rules"});
  EXPECT_TRUE(r["b"].ok());
}

TEST(InterPodAffinity, ExistingPodsAntiAffinityIsSymmetric) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z2");
  a.addPod(labelled("db", "db", "a", term("podAntiAffinity", "required", "web", "topology.kubernetes.io/zone")));
  auto snap = Snapshot::of({a, b});
  auto r = filterAll(*labelled("web", "web", ""), snap);
  EXPECT_EQ(r["a"].reasons, std::vector<std::string>{"node(s) didn't satisfy existing pods anti-affinity rules"});
  EXPECT_TRUE(r["b"].ok());
}

TEST(InterPodAffinity, RequiredAffinityByZoneAndTheFirstPodOfAGroup) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z1"), c = zoned("c", "z2");
  a.addPod(labelled("cache", "cache", "a"));
  auto snap = Snapshot::of({a, b, c});
  auto pod = labelled("web", "web", "", term("podAffinity", "required", "cache", "topology.kubernetes.io/zone"));
  auto r = filterAll(*pod, snap);
  EXPECT_TRUE(r["a"].ok());
  EXPECT_TRUE(r["b"].ok());  // same zone
  EXPECT_EQ(r["c"].code, Code::kUnschedulableAndUnresolvable);
  // Affinity to its own kind with none running yet: allowed anywhere.
  auto first = labelled("w1", "w", "", term("podAffinity", "required", "w", "kubernetes.io/hostname"));
  auto r2 = filterAll(*first, snap);
  EXPECT_TRUE(r2["c"].ok());
}

TEST(InterPodAffinity, PreferredAntiAffinityScoresAwayFromMatches) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z2");
  a.addPod(labelled("web-1", "web", "a"));
  auto snap = Snapshot::of({a, b});
  auto pod = labelled("web-2", "web", "", term("podAntiAffinity", "preferred", "web", "kubernetes.io/hostname"));
  InterPodAffinity pl;
  CycleState s;
  std::vector<const NodeInfo*> nodes{snap.get("a"), snap.get("b")};
  ASSERT_TRUE(pl.preScore(s, *pod, snap, nodes).ok());
  std::vector<int64_t> scores{pl.score(s, *pod, *nodes[0]), pl.score(s, *pod, *nodes[1])};
  EXPECT_EQ(scores, (std::vector<int64_t>{-50, 0}));
  pl.normalize(s, *pod, scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{0, 100}));
}

TEST(InterPodAffinity, RemovePodExtensionForPreemption) {
  NodeInfo a = zoned("a", "z1");
  auto victim = labelled("web-1", "web", "a");
  a.addPod(victim);
  auto snap = Snapshot::of({a});
  auto pod = labelled("web-2", "web", "", term("podAntiAffinity", "required", "web", "kubernetes.io/hostname"));
  InterPodAffinity pl;
  CycleState s;
  ASSERT_TRUE(pl.preFilter(s, *pod, snap).ok());
  EXPECT_FALSE(pl.filter(s, *pod, *snap.get("a")).ok());
  NodeInfo without = *snap.get("a");
  without.removePod(victim->uid);
  pl.removePod(s, *pod, *victim, without, snap);
  EXPECT_TRUE(pl.filter(s, *pod, without).ok());
}

}  // namespace
}  // namespace berth::scheduler::plugins
