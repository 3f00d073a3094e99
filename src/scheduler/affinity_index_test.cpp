// The affinity index kept in snapshots by the cache (framework/affinity_index.h): its counts
// follow add/remove/assume/forget, and InterPodAffinity and PodTopologySpread decide exactly as
// the brute-force walk over every pod on random clusters changed at random.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "scheduler/cache.h"
#include "scheduler/framework/testing.h"
#include "scheduler/plugins/interpodaffinity/inter_pod_affinity.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

namespace berth::scheduler {
namespace {

using plugins::InterPodAffinity;
using plugins::PodTopologySpread;
constexpr auto kAnti = AffinityIndex::kRequiredAntiAffinity;

ObjectPtr zonedNode(const std::string& name, const std::string& zone) {
  std::string labels = R"({"kubernetes.io/hostname":")" + name + "\"" +
                       (zone.empty() ? "" : R"(,"zone":")" + zone + "\"") + "}";
  return testing::simpleNode(name, "64", "256Gi", labels).object;
}

PodInfoPtr antiPod(const std::string& name, const std::string& group, const std::string& node) {
  return testing::pod(
      R"({"metadata":{"name":")" + name + R"(","labels":{"group":")" + group +
      R"("}},"spec":{"nodeName":")" + node +
      R"(","affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"group":")" +
      group + R"("}},"topologyKey":"kubernetes.io/hostname"}]}}}})");
}

TEST(AffinityIndex, CountsFollowAddRemoveAssumeForget) {
  Cache cache;
  cache.addNode(zonedNode("a", "z1"));
  cache.addNode(zonedNode("b", "z1"));
  Snapshot snap;
  cache.updateSnapshot(snap);
  ASSERT_TRUE(snap.affinity.built());
  size_t a = snap.index.at("a"), b = snap.index.at("b");
  EXPECT_FALSE(snap.affinity.hasTerms(kAnti));

  auto p1 = antiPod("p1", "g1", "a"), p2 = antiPod("p2", "g1", "a"), p3 = antiPod("p3", "g2", "b");
  cache.addPod(p1);
  ASSERT_TRUE(cache.assumePod(p2).ok());
  ASSERT_TRUE(cache.assumePod(p3).ok());
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.affinity.termPods(kAnti, a), 2);  // bound and assumed alike
  EXPECT_EQ(snap.affinity.termPods(kAnti, b), 1);
  EXPECT_EQ(snap.affinity.labelSetCount(), 2u);  // g1 and g2

  cache.forgetPod("p3");  // binding failed
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.affinity.termPods(kAnti, b), 0);
  EXPECT_EQ(snap.affinity.labelSetCount(), 1u);

  cache.finishBinding("p2");
  cache.addPod(p2);  // the informer confirms the assumed pod: still counted once
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.affinity.termPods(kAnti, a), 2);

  cache.removePod(*p1);
  cache.removePod(*p2);
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.affinity.termPods(kAnti, a), 0);
  EXPECT_FALSE(snap.affinity.hasTerms(kAnti));
  EXPECT_EQ(snap.affinity.labelSetCount(), 0u);
}

// Random pods with random labels and random inter-pod terms of every kind and selector shape.
class RandomCluster {
 public:
  explicit RandomCluster(uint32_t seed) : rng_(seed) {}

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  std::string labels() {
    static const char* apps[] = {"a", "b", "c"};
    std::string out = "{";
    if (chance(80)) out += std::string(R"("app":")") + apps[pick(3)] + "\"";
    if (chance(50))
      out +=
          std::string(out.size() > 1 ? "," : "") + R"("tier":")" + (chance(50) ? "x" : "y") + "\"";
    return out + "}";
  }

  std::string selector() {
    switch (pick(6)) {
      case 0:
        return R"({"matchLabels":{"app":"a"}})";
      case 1:
        return R"({"matchExpressions":[{"key":"app","operator":"In","values":["a","b"]}]})";
      case 2:
        return R"({"matchExpressions":[{"key":"app","operator":"NotIn","values":["a"]}]})";
      case 3:
        return R"({"matchExpressions":[{"key":"tier","operator":"Exists"}]})";
      case 4:
        return R"({"matchLabels":{"tier":"x"},"matchExpressions":[{"key":"app","operator":"DoesNotExist"}]})";
      default:
        return R"({})";  // every pod (of the namespaces)
    }
  }

  std::string term() {
    std::string t = R"({"labelSelector":)" + selector() + R"(,"topologyKey":")" +
                    (chance(50) ? "kubernetes.io/hostname" : "zone") + "\"";
    if (chance(15)) t += R"(,"namespaces":["default","other"])";
    if (chance(10))
      t += R"(,"namespaceSelector":{})";  // every namespace
    else if (chance(10))
      t += R"(,"namespaceSelector":{"matchLabels":{"team":"x"}})";
    return t + "}";
  }

  std::string affinity() {
    std::string out;
    auto field = [&](const char* kind) {
      std::string req, pref;
      int n = static_cast<int>(pick(3)) - 1;  // mostly none or one
      for (int i = 0; i < n; ++i) req += (req.empty() ? "" : ",") + term();
      n = static_cast<int>(pick(3)) - 1;
      for (int i = 0; i < n; ++i)
        pref += (pref.empty() ? "" : ",") + std::string(R"({"weight":)") +
                std::to_string(1 + pick(100)) + R"(,"podAffinityTerm":)" + term() + "}";
      if (req.empty() && pref.empty()) return;
      out +=
          std::string(out.empty() ? "" : ",") + "\"" + kind + "\":{" +
          (req.empty() ? "" : R"("requiredDuringSchedulingIgnoredDuringExecution":[)" + req + "]") +
          (pref.empty()
               ? ""
               : std::string(req.empty() ? "" : ",") +
                     R"("preferredDuringSchedulingIgnoredDuringExecution":[)" + pref + "]") +
          "}";
    };
    if (chance(40)) field("podAffinity");
    if (chance(40)) field("podAntiAffinity");
    return out.empty() ? "" : R"(,"affinity":{)" + out + "}";
  }

  // Topology spread constraints of every kind, or none (the system defaults then apply).
  std::string spread() {
    int n = static_cast<int>(pick(4)) - 1;
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += std::string(out.empty() ? "" : ",") + R"({"maxSkew":)" + std::to_string(1 + pick(3)) +
             R"(,"topologyKey":")" + (chance(50) ? "kubernetes.io/hostname" : "zone") +
             R"(","whenUnsatisfiable":")" + (chance(50) ? "DoNotSchedule" : "ScheduleAnyway") +
             R"(","labelSelector":)" + selector() + (chance(20) ? R"(,"minDomains":3)" : "") +
             (chance(20) ? R"(,"nodeAffinityPolicy":"Ignore")" : "") + "}";
    }
    std::string nodeSelector = chance(20) ? R"(,"nodeSelector":{"zone":"z1"})" : "";
    return out.empty() ? nodeSelector
                       : R"(,"topologySpreadConstraints":[)" + out + "]" + nodeSelector;
  }

  // `spreading`: some pods terminating, spread constraints instead of inter-pod terms.
  PodInfoPtr pod(const std::string& name, const std::string& node, bool spreading = false) {
    std::string ns = chance(80) ? "default" : "other";
    std::string deleted =
        spreading && chance(15) ? R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")" : "";
    return testing::pod(R"({"metadata":{"name":")" + name + R"(","namespace":")" + ns +
                        R"(","uid":")" + name + R"(","labels":)" + labels() + deleted +
                        R"(},"spec":{"nodeName":")" + node + "\"" +
                        (spreading ? spread() : affinity()) + "}}");
  }

 private:
  std::mt19937 rng_;
};

// InterPodAffinity's verdict and score for `pod` on every node, with the snapshot as given.
std::vector<std::string> decide(const PodInfo& pod, const Snapshot& snap) {
  InterPodAffinity pl;
  CycleState state;
  std::vector<std::string> out;
  auto pre = pl.preFilter(state, pod, snap);
  out.push_back("prefilter " + std::to_string(static_cast<int>(pre.code)));
  std::vector<const NodeInfo*> all;
  for (const auto& n : snap.nodes) all.push_back(n.get());
  auto preScore = pl.preScore(state, pod, snap, all);
  out.push_back("prescore " + std::to_string(static_cast<int>(preScore.code)));
  for (const auto& n : snap.nodes) {
    PluginStatus st = pre.code == Code::kSkip ? PluginStatus{} : pl.filter(state, pod, *n);
    std::string line = n->name + " " + std::to_string(static_cast<int>(st.code));
    for (const auto& r : st.reasons) line += " " + r;
    if (preScore.code != Code::kSkip) line += " score " + std::to_string(pl.score(state, pod, *n));
    out.push_back(line);
  }
  return out;
}

// A random cluster of 3-12 nodes (some without the zone label) changed at random over 30
// rounds (bind, assume, forget, remove, relabel a node); check(snap, round) after each round.
void churn(RandomCluster& rc, bool spreading, const std::function<void(Snapshot&, int)>& check) {
  Cache cache;
  cache.setNamespaceLabels("default", {});
  cache.setNamespaceLabels("other", {{"team", "x"}});
  std::vector<std::string> nodes;
  size_t nodeCount = 3 + rc.pick(10);
  for (size_t i = 0; i < nodeCount; ++i) {
    nodes.push_back("n" + std::to_string(i));
    // Some nodes lack the zone label: terms on it must skip them.
    cache.addNode(zonedNode(nodes.back(), rc.chance(85) ? "z" + std::to_string(i % 3) : ""));
  }
  Snapshot snap;
  std::vector<PodInfoPtr> live;
  int next = 0;
  for (int round = 0; round < 30; ++round) {
    for (int op = 0; op < 4; ++op) {
      auto p = rc.pod("p" + std::to_string(next++), nodes[rc.pick(nodes.size())], spreading);
      switch (rc.pick(5)) {
        case 0:
        case 1:
          cache.addPod(p);
          live.push_back(p);
          break;
        case 2:
          ASSERT_TRUE(cache.assumePod(p).ok());
          if (rc.chance(50))
            cache.forgetPod(p->uid);
          else
            live.push_back(p);
          break;
        case 3:
          if (!live.empty()) {
            size_t i = rc.pick(live.size());
            cache.removePod(*live[i]);
            live.erase(live.begin() + static_cast<long>(i));
          }
          break;
        default: {
          size_t i = rc.pick(nodes.size());
          cache.updateNode(zonedNode(nodes[i], "z" + std::to_string(rc.pick(3))));
        }
      }
    }
    cache.updateSnapshot(snap);
    ASSERT_TRUE(snap.affinity.built());
    check(snap, round);
  }
}

TEST(AffinityIndex, SameDecisionsAsTheWalkOverEveryPod) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    RandomCluster rc(seed);
    churn(rc, false, [&](Snapshot& snap, int round) {
      Snapshot walk = snap;
      walk.affinity.clear();  // InterPodAffinity walks every pod without the index
      for (int q = 0; q < 5; ++q) {
        auto incoming = rc.pod("incoming", "");
        ASSERT_EQ(decide(*incoming, snap), decide(*incoming, walk))
            << "seed " << seed << " round " << round << " pod "
            << boost::json::serialize(*incoming->object);
      }
    });
  }
}

// PodTopologySpread's verdicts and normalized scores for `pod`, scoring the nodes `feasible`.
std::vector<std::string> decideSpread(const PodInfo& pod, const Snapshot& snap,
                                      const std::vector<size_t>& feasible) {
  PodTopologySpread pl;
  CycleState state;
  std::vector<std::string> out;
  auto pre = pl.preFilter(state, pod, snap);
  out.push_back("prefilter " + std::to_string(static_cast<int>(pre.code)));
  for (const auto& n : snap.nodes) {
    PluginStatus st = pre.code == Code::kSkip ? PluginStatus{} : pl.filter(state, pod, *n);
    out.push_back(n->name + " " + std::to_string(static_cast<int>(st.code)));
  }
  std::vector<const NodeInfo*> nodes;
  for (size_t i : feasible) nodes.push_back(snap.nodes[i].get());
  auto preScore = pl.preScore(state, pod, snap, nodes);
  out.push_back("prescore " + std::to_string(static_cast<int>(preScore.code)));
  if (preScore.code == Code::kSkip) return out;
  std::vector<int64_t> scores;
  for (const NodeInfo* n : nodes) scores.push_back(pl.score(state, pod, *n));
  std::string raw = "raw";
  for (auto v : scores) raw += " " + std::to_string(v);
  pl.normalize(state, pod, scores);
  std::string normalized = "normalized";
  for (auto v : scores) normalized += " " + std::to_string(v);
  out.push_back(raw);
  out.push_back(normalized);
  return out;
}

TEST(AffinityIndex, TopologySpreadCountsAsTheWalkOverEveryPod) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    RandomCluster rc(seed);
    churn(rc, true, [&](Snapshot& snap, int round) {
      // The system default constraints for pods without their own: "app" of the pod's own label.
      snap.defaultSpreadSelector = [](const PodInfo& p) -> std::optional<core::LabelSelector> {
        auto it = p.labels.find("app");
        if (it == p.labels.end()) return std::nullopt;
        return core::LabelSelector::parse("app=" + it->second).value();
      };
      Snapshot walk = snap;
      walk.affinity.clear();  // PodTopologySpread counts every pod without the index
      for (int q = 0; q < 5; ++q) {
        auto incoming = rc.pod("incoming", "", true);
        std::vector<size_t> feasible;
        for (size_t i = 0; i < snap.nodes.size(); ++i)
          if (rc.chance(70)) feasible.push_back(i);
        // The filter loop's order: from a rotating start index, wrapping around; sometimes
        // with a nominated node put first (PreScore finds positions by walking the snapshot).
        if (!feasible.empty() && q % 2 == 1) {
          std::rotate(feasible.begin(), feasible.begin() + (q * 7) % feasible.size(),
                      feasible.end());
          if (q == 3 && feasible.size() > 2)
            std::swap(feasible.front(), feasible[feasible.size() / 2]);
        }
        auto got = decideSpread(*incoming, snap, feasible);
        ASSERT_EQ(got, decideSpread(*incoming, walk, feasible))
            << "seed " << seed << " round " << round << " pod "
            << boost::json::serialize(*incoming->object);
      }
    });
  }
}

}  // namespace
}  // namespace berth::scheduler
