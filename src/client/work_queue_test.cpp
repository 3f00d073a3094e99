#include "client/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace berth::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<ItemRateLimiter> exponential() {
  return std::make_unique<ItemExponentialRateLimiter>(milliseconds(5), seconds(1000));
}

TEST(WorkQueue, DeduplicatesWaitingKeys) {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsRequeuedAfterDone) {
  WorkQueue q;
  q.add("a");
  auto k = q.get();
  ASSERT_EQ(*k, "a");
  q.add("a");  // changed while a worker syncs it
  q.add("a");
  EXPECT_EQ(q.len(), 0u) << "must not be handed to a second worker concurrently";
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(*q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, AddAfterWaitsForTheClockAndEarliestDeadlineWins) {
  FakeClock clock;
  WorkQueue q(exponential(), clock);
  q.addAfter("a", seconds(10));
  q.addAfter("b", seconds(5));
  q.addAfter("a", seconds(2));   // sooner: replaces the 10 s deadline
  q.addAfter("b", seconds(60));  // later: ignored
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.delayedLen(), 2u);
  clock.advance(seconds(2));
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(*q.get(), "a");
  clock.advance(seconds(3));
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(*q.get(), "b");
  EXPECT_EQ(q.delayedLen(), 0u);
}

TEST(WorkQueue, AddRateLimitedBacksOffExponentiallyUntilForget) {
  FakeClock clock;
  WorkQueue q(exponential(), clock);
  q.addRateLimited("a");  // 5 ms
  clock.advance(milliseconds(4));
  EXPECT_EQ(q.len(), 0u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(q.len(), 1u);
  ASSERT_EQ(*q.get(), "a");
  q.done("a");
  q.addRateLimited("a");  // 10 ms
  clock.advance(milliseconds(9));
  EXPECT_EQ(q.len(), 0u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.numRequeues("a"), 2);
  q.forget("a");
  EXPECT_EQ(q.numRequeues("a"), 0);
}

TEST(WorkQueue, GetWakesForADelayedKeyOnTheRealClock) {
  WorkQueue q(exponential());
  auto start = std::chrono::steady_clock::now();
  q.addAfter("a", milliseconds(30));
  auto k = q.get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "a");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30));
}

TEST(WorkQueue, ShutDownWakesWaitingWorkersAndRefusesNewKeys) {
  WorkQueue q;
  std::atomic<int> ended{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      while (auto k = q.get()) q.done(*k);
      ++ended;
    });
  }
  q.shutDown();
  for (auto& w : workers) w.join();
  EXPECT_EQ(ended.load(), 3);
  q.add("late");
  EXPECT_EQ(q.len(), 0u);
  EXPECT_TRUE(q.shuttingDown());
}

TEST(WorkQueue, ShutDownDrainsQueuedKeysFirst) {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.shutDown();
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
  EXPECT_FALSE(q.get().has_value());
}

TEST(WorkQueue, ShutDownWithDrainWaitsForInFlightKeys) {
  WorkQueue q;
  q.add("a");
  auto k = q.get();
  std::atomic<bool> drained{false};
  std::thread t([&] {
    q.shutDownWithDrain();
    drained = true;
  });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(drained.load()) << "returned while a key was still being processed";
  q.done(*k);
  t.join();
  EXPECT_TRUE(drained.load());
}

TEST(WorkQueue, ParallelWorkersNeverProcessOneKeyTwiceAtOnce) {
  WorkQueue q;
  std::mutex mu;
  std::set<std::string> inFlight;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      while (auto k = q.get()) {
        {
          std::lock_guard lock(mu);
          if (!inFlight.insert(*k).second) overlap = true;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        {
          std::lock_guard lock(mu);
          inFlight.erase(*k);
        }
        ++processed;
        q.done(*k);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.add("k" + std::to_string(i % 7));
  q.shutDownWithDrain();
  for (auto& w : workers) w.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), 7);
  EXPECT_LE(processed.load(), 2000);
}

TEST(WorkQueue, MetricsCountAddsRetriesAndDurations) {
  FakeClock clock;
  WorkQueue q(exponential(), clock);
  q.add("a");
  q.add("a");  // de-duplicated: not an add
  q.add("b");
  auto m = q.metrics();
  EXPECT_EQ(m.depth, 2u);
  EXPECT_EQ(m.addsTotal, 2);
  clock.advance(seconds(2));
  auto k = q.get();
  clock.advance(seconds(3));
  q.done(*k);
  q.addRateLimited("c");
  m = q.metrics();
  EXPECT_EQ(m.depth, 1u);
  EXPECT_EQ(m.retriesTotal, 1);
  EXPECT_EQ(m.queueDurationCount, 1);
  EXPECT_DOUBLE_EQ(m.queueDurationSecondsSum, 2.0);
  EXPECT_EQ(m.workDurationCount, 1);
  EXPECT_DOUBLE_EQ(m.workDurationSecondsSum, 3.0);
}

}  // namespace
}  // namespace berth::client
