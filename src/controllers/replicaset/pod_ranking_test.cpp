#include "controllers/replicaset/pod_ranking.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::replicaset {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const SystemTime kNow = *parseTime("2024-03-01T12:00:00Z");

struct PodSpec {
  std::string name;
  std::string node;
  std::string phase = "Running";
  bool ready = true;
  std::string readySince = "2024-03-01T10:00:00Z";
  long long restarts = 0;
  std::string created = "2024-03-01T09:00:00Z";
  std::string deletionCost;
};

client::ObjectPtr pod(const PodSpec& s) {
  json::object meta{{"name", s.name},
                    {"namespace", "ns"},
                    {"uid", "uid-" + s.name},
                    {"creationTimestamp", s.created}};
  if (!s.deletionCost.empty())
    meta["annotations"] = {{"controller.kubernetes.io/pod-deletion-cost", s.deletionCost}};
  json::object spec{{"containers", json::array{{{"name", "c"}}}}};
  if (!s.node.empty()) spec["nodeName"] = s.node;
  json::object status{{"phase", s.phase}};
  status["conditions"] = json::array{{{"type", "Ready"},
                                      {"status", s.ready ? "True" : "False"},
                                      {"lastTransitionTime", s.readySince}}};
  status["containerStatuses"] = json::array{{{"name", "c"}, {"restartCount", s.restarts}}};
  return std::make_shared<const json::value>(
      json::object{{"metadata", std::move(meta)}, {"spec", std::move(spec)}, {"status", status}});
}

// Names of the first `n` pods chosen for deletion.
std::vector<std::string> victims(const std::vector<client::ObjectPtr>& pods, size_t n,
                                 const std::vector<client::ObjectPtr>& related = {}) {
  std::vector<std::string> out;
  for (const auto& p : podsToDelete(pods, related, n, kNow))
    out.push_back(stringAt(*p, {"metadata", "name"}));
  return out;
}

TEST(PodRanking, UnassignedBeforeAssigned) {
  auto pods = {pod({"assigned", "n1"}), pod({"unassigned", "", "Pending", false})};
  EXPECT_EQ(victims(pods, 1), std::vector<std::string>{"unassigned"});
}

TEST(PodRanking, PendingBeforeUnknownBeforeRunning) {
  auto pods = {pod({"running", "n1", "Running"}), pod({"pending", "n1", "Pending"}),
               pod({"unknown", "n1", "Unknown"})};
  EXPECT_EQ(victims(pods, 2), (std::vector<std::string>{"pending", "unknown"}));
}

TEST(PodRanking, NotReadyBeforeReady) {
  auto pods = {pod({"ready", "n1"}), pod({"notready", "n1", "Running", false})};
  EXPECT_EQ(victims(pods, 1), std::vector<std::string>{"notready"});
}

TEST(PodRanking, LowerDeletionCostFirst) {
  PodSpec cheap{"cheap", "n1"};
  cheap.deletionCost = "-5";
  PodSpec dear{"dear", "n1"};
  dear.deletionCost = "100";
  auto pods = {pod(dear), pod({"zero", "n1"}), pod(cheap)};
  EXPECT_EQ(victims(pods, 2), (std::vector<std::string>{"cheap", "zero"}));
}

TEST(PodRanking, DoubledUpNodesFirst) {
  // Related pods (of sibling ReplicaSets) crowd n2: its pod goes first.
  auto a = pod({"on-n1", "n1"}), b = pod({"on-n2", "n2"});
  std::vector<client::ObjectPtr> related = {a, b, pod({"sibling1", "n2"}), pod({"sibling2", "n2"})};
  EXPECT_EQ(victims({a, b}, 1, related), std::vector<std::string>{"on-n2"});
}

TEST(PodRanking, ShorterReadyTimeFirstInLogBuckets) {
  PodSpec young{"young", "n1"}, old{"old", "n1"};
  young.readySince = "2024-03-01T11:59:00Z";  // ready for a minute
  old.readySince = "2024-03-01T02:00:00Z";    // ten hours
  EXPECT_EQ(victims({pod(old), pod(young)}, 1), std::vector<std::string>{"young"});
  // Within one log2 bucket of age the order falls through to the uid.
  PodSpec a{"a", "n1"}, b{"b", "n1"};
  a.readySince = "2024-03-01T10:00:00Z";
  b.readySince = "2024-03-01T10:00:01Z";
  EXPECT_EQ(victims({pod(b), pod(a)}, 1), std::vector<std::string>{"a"});
}

TEST(PodRanking, MoreRestartsFirst) {
  PodSpec flaky{"flaky", "n1"};
  flaky.restarts = 7;
  EXPECT_EQ(victims({pod({"steady", "n1"}), pod(flaky)}, 1), std::vector<std::string>{"flaky"});
}

TEST(PodRanking, NewerFirst) {
  PodSpec newer{"newer", "n1", "Pending", false};
  newer.created = "2024-03-01T11:59:30Z";
  PodSpec older{"older", "n1", "Pending", false};
  older.created = "2024-03-01T01:00:00Z";
  EXPECT_EQ(victims({pod(older), pod(newer)}, 1), std::vector<std::string>{"newer"});
}

TEST(PodRanking, EarlierCriteriaWin) {
  // A not-ready old pod goes before a ready, restarting, new one: readiness ranks first.
  PodSpec notReady{"notready-old", "n1", "Running", false};
  notReady.created = "2024-01-01T00:00:00Z";
  PodSpec readyNew{"ready-new", "n1"};
  readyNew.restarts = 50;
  readyNew.created = "2024-03-01T11:59:59Z";
  EXPECT_EQ(victims({pod(readyNew), pod(notReady)}, 1), std::vector<std::string>{"notready-old"});
}

TEST(PodRanking, AllWhenCountCoversEveryPod) {
  auto pods = {pod({"a", "n1"}), pod({"b", "n1"})};
  EXPECT_EQ(victims(pods, 5).size(), 2u);
}

}  // namespace
}  // namespace berth::controllers::replicaset
