#include "scheduler/queue.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

PodInfoPtr pod(const std::string& name, int priority = 0) {
  return testing::pod(R"({"metadata":{"name":")" + name + R"("},"spec":{"priority":)" +
                      std::to_string(priority) + "}}");
}

TEST(SchedulingQueue, PriorityThenAge) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("low-old", 0));
  clock.advance(milliseconds(1));
  q.add(pod("high", 100));
  clock.advance(milliseconds(1));
  q.add(pod("low-new", 0));
  EXPECT_EQ(q.pop(milliseconds(0))->pod->name, "high");
  EXPECT_EQ(q.pop(milliseconds(0))->pod->name, "low-old");
  EXPECT_EQ(q.pop(milliseconds(0))->pod->name, "low-new");
  EXPECT_FALSE(q.pop(milliseconds(0)));
}

TEST(SchedulingQueue, BackoffDoublesUpToTenSeconds) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  EXPECT_EQ(q.backoffFor(1), seconds(1));
  EXPECT_EQ(q.backoffFor(2), seconds(2));
  EXPECT_EQ(q.backoffFor(4), seconds(8));
  EXPECT_EQ(q.backoffFor(5), seconds(10));
  EXPECT_EQ(q.backoffFor(30), seconds(10));
}

TEST(SchedulingQueue, UnschedulablePodWaitsForAnEventThenItsBackoff) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("p"));
  auto qp = q.pop(milliseconds(0));
  ASSERT_TRUE(qp);
  EXPECT_EQ(qp->attempts, 1);
  q.addUnschedulable(*qp);
  EXPECT_EQ(q.unschedulableSize(), 1u);
  clock.advance(seconds(2));  // backoff over, but nothing changed in the cluster
  q.flush();
  EXPECT_EQ(q.activeSize(), 0u);
  q.moveAllToActiveOrBackoff();  // e.g. a node was added
  EXPECT_EQ(q.activeSize(), 1u);
  qp = q.pop(milliseconds(0));
  ASSERT_TRUE(qp);
  EXPECT_EQ(qp->attempts, 2);
  q.addUnschedulable(*qp);
  // An event within the 2 s backoff of attempt 2 goes to backoff, then active when it ends.
  q.moveAllToActiveOrBackoff();
  EXPECT_EQ(q.backoffSize(), 1u);
  clock.advance(milliseconds(1999));
  q.flush();
  EXPECT_EQ(q.activeSize(), 0u);
  clock.advance(milliseconds(1));
  q.flush();
  EXPECT_EQ(q.activeSize(), 1u);
}

TEST(SchedulingQueue, EventDuringTheCycleSendsThePodToBackoff) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("p"));
  auto qp = q.pop(milliseconds(0));
  q.moveAllToActiveOrBackoff();  // while "p" was being scheduled
  q.addUnschedulable(*qp);
  EXPECT_EQ(q.unschedulableSize(), 0u);
  EXPECT_EQ(q.backoffSize(), 1u);
  clock.advance(seconds(1));
  EXPECT_TRUE(q.pop(milliseconds(0)));
}

TEST(SchedulingQueue, LeftoverUnschedulablePodsRetryAfterFiveMinutes) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("p"));
  q.addUnschedulable(*q.pop(milliseconds(0)));
  clock.advance(std::chrono::minutes(4));
  q.flush();
  EXPECT_EQ(q.activeSize(), 0u);
  clock.advance(std::chrono::minutes(1));
  q.flush();
  EXPECT_EQ(q.activeSize(), 1u);
}

TEST(SchedulingQueue, SpecUpdateRetriesStatusUpdateDoesNot) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("p"));
  q.addUnschedulable(*q.pop(milliseconds(0)));
  clock.advance(seconds(5));
  q.update(pod("p"), false);
  EXPECT_EQ(q.unschedulableSize(), 1u);
  q.update(pod("p"), true);
  EXPECT_EQ(q.activeSize(), 1u);
}

TEST(SchedulingQueue, DeleteWhileInFlightDropsThePod) {
  client::FakeClock clock;
  SchedulingQueue q(clock);
  q.add(pod("p"));
  auto qp = q.pop(milliseconds(0));
  q.remove("default/p");
  q.addUnschedulable(*qp);
  EXPECT_FALSE(q.contains("default/p"));
  q.add(pod("gone"));
  q.remove("default/gone");
  EXPECT_EQ(q.activeSize(), 0u);
}

}  // namespace
}  // namespace berth::scheduler
