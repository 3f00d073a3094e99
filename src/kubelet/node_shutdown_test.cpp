#include "kubelet/node_shutdown.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>
#include <thread>

namespace berth::kubelet {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

json::object pod(const std::string& name, const std::string& spec = "") {
  return json::parse(R"({"metadata":{"name":")" + name + R"("},"spec":{)" + spec + "}}")
      .as_object();
}

std::vector<std::string> names(const ShutdownGroup& g) {
  std::vector<std::string> out;
  for (const auto& p : g.pods) out.emplace_back(p.at("metadata").at("name").as_string());
  return out;
}

TEST(NodeShutdown, GroupsFromTheTwoGracePeriods) {
  EXPECT_TRUE(shutdownGroups({0s, 0s}).empty());   // the default: off
  EXPECT_TRUE(shutdownGroups({5s, 10s}).empty());  // critical longer than the whole: off
  auto groups = shutdownGroups({10s, 3s});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].priority, 0);
  EXPECT_EQ(groups[0].period, 7s);
  EXPECT_EQ(groups[1].priority, kSystemCriticalPriority);
  EXPECT_EQ(groups[1].period, 3s);
  EXPECT_FALSE(NodeShutdownManager({0s, 0s}).enabled());
  EXPECT_TRUE(NodeShutdownManager({10s, 0s}).enabled());
}

TEST(NodeShutdown, CriticalPodsGoLast) {
  auto groups = shutdownGroups({10s, 3s});
  assignToGroups(
      groups,
      {pod("plain"), pod("high", R"("priority":1000000)"), pod("negative", R"("priority":-5)"),
       pod("cluster", R"("priority":2000000000)"), pod("node", R"("priority":2000001000)"),
       pod("unadmitted", R"("priorityClassName":"system-node-critical")"),
       pod("user-class", R"("priorityClassName":"gold")")});
  EXPECT_EQ(names(groups[0]),
            (std::vector<std::string>{"plain", "high", "negative", "user-class"}));
  EXPECT_EQ(names(groups[1]), (std::vector<std::string>{"cluster", "node", "unadmitted"}));
}

TEST(NodeShutdown, PodGetsTheSmallerGracePeriod) {
  auto groups = shutdownGroups({10s, 3s});
  EXPECT_EQ(podShutdownGracePeriod(pod("p"), groups[0]), 7);
  EXPECT_EQ(podShutdownGracePeriod(pod("p", R"("terminationGracePeriodSeconds":30)"), groups[0]),
            7);
  EXPECT_EQ(podShutdownGracePeriod(pod("p", R"("terminationGracePeriodSeconds":2)"), groups[0]), 2);
  EXPECT_EQ(podShutdownGracePeriod(pod("p", R"("terminationGracePeriodSeconds":0)"), groups[1]), 0);
}

TEST(NodeShutdown, FinalPodStatus) {
  auto status = json::parse(R"({"phase":"Running","conditions":[
      {"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z"}]})")
                    .as_object();
  applyNodeShutdownStatus(status, "2026-11-29T10:00:00Z");
  EXPECT_EQ(status["phase"], "Failed");
  EXPECT_EQ(status["reason"], "Terminated");
  EXPECT_EQ(status["message"], "Pod was terminated in response to imminent node shutdown.");
  auto& conds = status["conditions"].as_array();
  ASSERT_EQ(conds.size(), 2u);
  EXPECT_EQ(conds[1], json::parse(R"({"type":"DisruptionTarget","status":"True",
      "lastProbeTime":null,"reason":"TerminationByKubelet",
      "message":"Pod was terminated in response to imminent node shutdown.",
      "lastTransitionTime":"2026-11-29T10:00:00Z"})"));
  applyNodeShutdownStatus(status, "2026-11-29T11:00:00Z");  // again: one condition, same time
  EXPECT_EQ(status["conditions"].as_array().size(), 2u);
  EXPECT_EQ(status["conditions"].as_array()[1].at("lastTransitionTime"), "2026-11-29T10:00:00Z");

  auto done = json::parse(R"({"phase":"Succeeded"})").as_object();
  applyNodeShutdownStatus(done, "2026-11-29T10:00:00Z");
  EXPECT_EQ(done["phase"], "Succeeded");  // a pod that already succeeded keeps its phase
  EXPECT_EQ(done["reason"], "Terminated");
}

TEST(NodeShutdown, NodeReportsNotReady) {
  auto status = json::parse(R"({"conditions":[{"type":"MemoryPressure","status":"False"},
      {"type":"Ready","status":"True","reason":"KubeletReady","lastTransitionTime":"2026-01-01T00:00:00Z"}]})")
                    .as_object();
  markNodeShuttingDown(status, "2026-11-29T10:00:00Z");
  const auto& ready = status["conditions"].as_array()[1].as_object();
  EXPECT_EQ(ready.at("status"), "False");
  EXPECT_EQ(ready.at("reason"), "KubeletNotReady");
  EXPECT_EQ(ready.at("message"), "node is shutting down");
  EXPECT_EQ(ready.at("lastTransitionTime"), "2026-11-29T10:00:00Z");
}

struct KillLog {
  std::mutex mu;
  std::map<std::string, Clock::duration> startedAt;
  std::map<std::string, int64_t> grace;
};

// Runs a shutdown of `pods`; each kill takes `killTakes` (by pod name, default instant).
void runShutdown(ShutdownConfig config, std::vector<json::object> pods,
                 std::map<std::string, std::chrono::milliseconds> killTakes, KillLog& log,
                 bool* statusFirst) {
  NodeShutdownManager m(config);
  auto t0 = Clock::now();
  bool statusPosted = false;
  m.run(
      std::move(pods),
      [&](const json::object& p, int64_t grace) {
        std::string name(p.at("metadata").at("name").as_string());
        {
          std::lock_guard lock(log.mu);
          log.startedAt[name] = Clock::now() - t0;
          log.grace[name] = grace;
          if (statusFirst && !statusPosted) *statusFirst = false;
        }
        if (auto it = killTakes.find(name); it != killTakes.end())
          std::this_thread::sleep_for(it->second);
      },
      [&] {
        EXPECT_TRUE(m.shuttingDown());
        statusPosted = true;
      });
}

TEST(NodeShutdown, CriticalGroupWaitsForRegularPodsUpToTheirPeriod) {
  // Regular pods get 300 ms; one hangs for 1.2 s: the critical pod starts at ~300 ms.
  KillLog log;
  bool statusFirst = true;
  runShutdown({600ms, 300ms}, {pod("slow"), pod("fast"), pod("crit", R"("priority":2000000000)")},
              {{"slow", 1200ms}}, log, &statusFirst);
  EXPECT_TRUE(statusFirst);  // NotReady is posted before any pod is killed
  EXPECT_LT(log.startedAt["slow"], 100ms);
  EXPECT_LT(log.startedAt["fast"], 100ms);
  EXPECT_GE(log.startedAt["crit"], 290ms);
  EXPECT_LT(log.startedAt["crit"], 900ms);
  EXPECT_EQ(log.grace["slow"], 0);  // 300 ms floors to 0 s, as upstream's int64 seconds
}

TEST(NodeShutdown, NextGroupStartsAsSoonAsTheRegularPodsAreDone) {
  KillLog log;
  auto t0 = Clock::now();
  runShutdown({20s, 10s}, {pod("a"), pod("b"), pod("crit", R"("priority":2000001000)")},
              {{"a", 50ms}}, log, nullptr);
  EXPECT_GE(log.startedAt["crit"], 45ms);
  EXPECT_LT(log.startedAt["crit"], 2s);
  EXPECT_LT(Clock::now() - t0, 3s);  // run() returned without waiting out any period
  EXPECT_EQ(log.grace["a"], 10);
  EXPECT_EQ(log.grace["crit"], 10);
}

TEST(NodeShutdown, NoRegularPodsNoWait) {
  KillLog log;
  runShutdown({30s, 10s}, {pod("crit", R"("priority":2000000000)")}, {}, log, nullptr);
  EXPECT_LT(log.startedAt["crit"], 100ms);
}

ShutdownConfig bands(const std::string& flag) {
  ShutdownConfig c;
  auto parsed = parseShutdownPriorityBands(flag);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (parsed.ok()) c.byPodPriority = *parsed;
  return c;
}

TEST(NodeShutdown, PriorityBandsFromTheFlag) {
  auto groups = shutdownGroups(bands("2000000000=10,0=30,100000=20"));
  ASSERT_EQ(groups.size(), 3u);  // sorted, lowest priority first
  EXPECT_EQ(groups[0].priority, 0);
  EXPECT_EQ(groups[0].period, 30s);
  EXPECT_EQ(groups[1].priority, 100000);
  EXPECT_EQ(groups[1].period, 20s);
  EXPECT_EQ(groups[2].priority, kSystemCriticalPriority);
  EXPECT_EQ(groups[2].period, 10s);
  EXPECT_TRUE(NodeShutdownManager(bands("0=5")).enabled());

  for (const char* bad : {"x=1", "10", "10=", "10=1s", "10=-1", "5=1,5=2"})
    EXPECT_FALSE(parseShutdownPriorityBands(bad).ok()) << bad;
  EXPECT_EQ(parseShutdownPriorityBands("5=1,5=2").status().message(),
            "invalid configuration: priority 5 is given twice in "
            "--shutdown-grace-period-by-pod-priority");
  ShutdownConfig both = bands("0=5");
  both.gracePeriod = 10s;
  EXPECT_EQ(validateShutdownConfig(both),
            "invalid configuration: cannot specify both --shutdown-grace-period-by-pod-priority "
            "and --shutdown-grace-period at the same time");
  EXPECT_EQ(validateShutdownConfig(bands("0=5")), "");
}

TEST(NodeShutdown, PodsGoToTheBandTheirPriorityReaches) {
  auto groups = shutdownGroups(bands("100=1,1000=2,10000=3"));
  assignToGroups(groups, {pod("below", R"("priority":5)"), pod("low", R"("priority":100)"),
                          pod("between", R"("priority":999)"), pod("mid", R"("priority":1000)"),
                          pod("above", R"("priority":2000000000)"), pod("none")});
  // Below the lowest band: the lowest; at a boundary: that band; between two: the lower one.
  EXPECT_EQ(names(groups[0]), (std::vector<std::string>{"below", "low", "between", "none"}));
  EXPECT_EQ(names(groups[1]), (std::vector<std::string>{"mid"}));
  EXPECT_EQ(names(groups[2]), (std::vector<std::string>{"above"}));
  EXPECT_EQ(podShutdownGracePeriod(pod("p"), groups[2]), 3);
}

TEST(NodeShutdown, BandsStopInOrderEachWaitingItsPeriod) {
  // Band 0 (1 s) has a pod that hangs for 3 s: band 100 starts after 1 s; band 100's pod is
  // quick, so band 1000 starts right after it.
  KillLog log;
  runShutdown(bands("1000=5,0=1,100=4"),
              {pod("top", R"("priority":5000)"), pod("hung"), pod("mid", R"("priority":150)")},
              {{"hung", 3000ms}, {"mid", 100ms}}, log, nullptr);
  EXPECT_LT(log.startedAt["hung"], 100ms);
  EXPECT_GE(log.startedAt["mid"], 990ms);
  EXPECT_LT(log.startedAt["mid"], 1800ms);
  EXPECT_GE(log.startedAt["top"], log.startedAt["mid"] + 90ms);
  EXPECT_LT(log.startedAt["top"], 2500ms);
  EXPECT_EQ(log.grace["hung"], 1);
  EXPECT_EQ(log.grace["mid"], 4);
  EXPECT_EQ(log.grace["top"], 5);
}

TEST(NodeShutdown, DisabledDoesNothing) {
  KillLog log;
  NodeShutdownManager m({0s, 0s});
  bool posted = false;
  m.run(
      {pod("a")}, [&](const json::object&, int64_t) { log.grace["a"] = 1; },
      [&] { posted = true; });
  EXPECT_FALSE(m.shuttingDown());
  EXPECT_FALSE(posted);
  EXPECT_TRUE(log.grace.empty());
}

}  // namespace
}  // namespace berth::kubelet
