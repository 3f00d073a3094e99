// Leader election and the event recorder against the real `berth server`.
#include "client/leader_election.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>

#include "client/event_recorder.h"
#include "client/testing_server.h"

namespace berth::client {
namespace {

namespace json = boost::json;
using namespace berth::client::testing;
using std::chrono::milliseconds;

class CoordinationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer("memory");
    ASSERT_TRUE(server_->start());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_); }
  static TestServer* server_;
};
TestServer* CoordinationTest::server_ = nullptr;

struct Candidate {
  std::atomic<int> started{0}, stopped{0};
  std::unique_ptr<RestClient> client;
  std::unique_ptr<LeaderElector> elector;
  Candidate(TestServer& server, const std::string& id) {
    client = server.client("berth-client-test/" + id);
    LeaderElectionConfig c;
    c.leaseNamespace = "default";
    c.leaseName = "test-lock";
    c.identity = id;
    c.leaseDuration = milliseconds(1500);
    c.renewDeadline = milliseconds(1000);
    c.retryPeriod = milliseconds(100);
    c.onStartedLeading = [this] { ++started; };
    c.onStoppedLeading = [this] { ++stopped; };
    elector = std::make_unique<LeaderElector>(*client, c);
  }
};

TEST_F(CoordinationTest, ExactlyOneLeaderAndTheOtherTakesOver) {
  Candidate a(*server_, "candidate-a"), b(*server_, "candidate-b");
  a.elector->start();
  b.elector->start();
  ASSERT_TRUE(eventually([&] { return a.elector->isLeader() || b.elector->isLeader(); }));
  // Over many renew periods, never both and never neither.
  for (int i = 0; i < 50; ++i) {
    int leaders = a.elector->isLeader() + b.elector->isLeader();
    ASSERT_EQ(leaders, 1) << "at sample " << i;
    std::this_thread::sleep_for(milliseconds(20));
  }
  Candidate& first = a.elector->isLeader() ? a : b;
  Candidate& second = &first == &a ? b : a;
  std::string firstId = &first == &a ? "candidate-a" : "candidate-b";
  std::string secondId = &first == &a ? "candidate-b" : "candidate-a";
  EXPECT_EQ(first.started.load(), 1);
  EXPECT_EQ(second.started.load(), 0);
  EXPECT_EQ(second.elector->leader(), firstId);

  auto lease = first.client->get(LeaderElector::leaseResource(), "default", "test-lock");
  ASSERT_TRUE(lease.ok()) << lease.status().message();
  EXPECT_EQ(lease->at("spec").at("holderIdentity").as_string(), firstId);
  EXPECT_EQ(lease->at("spec").at("leaseDurationSeconds"), 1);  // 1.5 s, whole seconds
  EXPECT_FALSE(lease->at("spec").at("renewTime").as_string().empty());
  auto transitions = lease->at("spec").at("leaseTransitions").to_number<int64_t>();

  first.elector->stop();
  EXPECT_EQ(first.stopped.load(), 1);
  EXPECT_FALSE(first.elector->isLeader());
  ASSERT_TRUE(eventually([&] { return second.elector->isLeader(); }, std::chrono::seconds(5)));
  EXPECT_EQ(second.started.load(), 1);
  lease = second.client->get(LeaderElector::leaseResource(), "default", "test-lock");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->at("spec").at("holderIdentity").as_string(), secondId);
  EXPECT_EQ(lease->at("spec").at("leaseTransitions").to_number<int64_t>(), transitions + 1);
  second.elector->stop();
  EXPECT_EQ(second.stopped.load(), 1);
}

TEST_F(CoordinationTest, ExpiredLeaseOfAVanishedHolderIsTaken) {
  auto c = server_->client("berth-client-test/ghost");
  // A holder that renewed once and died: its Lease is never released.
  std::string now = nowMicroTime();
  json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                     {"kind", "Lease"},
                     {"metadata", {{"name", "ghost-lock"}, {"namespace", "default"}}},
                     {"spec",
                      {{"holderIdentity", "ghost"},
                       {"leaseDurationSeconds", 1},
                       {"acquireTime", now},
                       {"renewTime", now},
                       {"leaseTransitions", 3}}}};
  ASSERT_TRUE(c->create(LeaderElector::leaseResource(), "default", lease).ok());
  LeaderElectionConfig cfg;
  cfg.leaseNamespace = "default";
  cfg.leaseName = "ghost-lock";
  cfg.identity = "heir";
  cfg.leaseDuration = milliseconds(800);
  cfg.renewDeadline = milliseconds(600);
  cfg.retryPeriod = milliseconds(100);
  LeaderElector heir(*c, cfg);
  auto start = std::chrono::steady_clock::now();
  heir.start();
  ASSERT_TRUE(eventually([&] { return heir.isLeader(); }, std::chrono::seconds(5)));
  // Not before the lease duration has passed unchanged, as seen by the heir's own clock.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(700));
  auto got = c->get(LeaderElector::leaseResource(), "default", "ghost-lock");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at("spec").at("holderIdentity"), "heir");
  EXPECT_EQ(got->at("spec").at("leaseTransitions").to_number<int64_t>(), 4);
  heir.stop();
}

TEST_F(CoordinationTest, EventRecorderAggregatesRepeats) {
  auto c = server_->client("berth-client-test/events");
  createNamespace(*c, "events");
  auto cm = c->create(kConfigMaps, "events", configMap("events", "subject"));
  ASSERT_TRUE(cm.ok());
  EventRecorder recorder(*c, "test-controller", "host-1");
  for (int i = 0; i < 5; ++i) recorder.record(*cm, "Warning", "Broken", "it broke");
  recorder.record(*cm, "Normal", "Fixed", "it works");
  recorder.flush();
  EXPECT_EQ(recorder.created(), 2);
  EXPECT_EQ(recorder.patched(), 4);

  auto events = c->list({"", "v1", "events", true}, "events");
  ASSERT_TRUE(events.ok()) << events.status().message();
  const auto& items = events->at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  const json::value* broken = nullptr;
  for (const auto& e : items)
    if (e.at("reason") == "Broken") broken = &e;
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->at("count").to_number<int64_t>(), 5);
  EXPECT_EQ(broken->at("type"), "Warning");
  EXPECT_EQ(broken->at("message"), "it broke");
  EXPECT_EQ(broken->at("involvedObject").at("kind"), "ConfigMap");
  EXPECT_EQ(broken->at("involvedObject").at("name"), "subject");
  EXPECT_EQ(broken->at("involvedObject").at("uid"), cm->at("metadata").at("uid"));
  EXPECT_EQ(broken->at("source").at("component"), "test-controller");
  EXPECT_FALSE(broken->at("lastTimestamp").as_string().empty());
}

}  // namespace
}  // namespace berth::client
