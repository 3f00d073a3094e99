#include "simulate/task_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace berth::simulate {
namespace {

using namespace std::chrono_literals;

TEST(TaskPool, TimersFireInDeadlineOrderAndStopDropsPendingOnes) {
  TaskPool pool(1);
  std::mutex mu;
  std::vector<int> order;
  auto now = TaskPool::Clock::now();
  for (int i : {3, 1, 2}) {
    pool.postAt(now + std::chrono::milliseconds(20 * i), [&, i] {
      std::lock_guard l(mu);
      order.push_back(i);
    });
  }
  std::atomic<bool> late{false};
  pool.postAfter(10s, [&] { late = true; });
  std::this_thread::sleep_for(150ms);
  pool.stop();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(late);
}

TEST(Strand, RunsOneOwnersTasksInOrderAndNeverTogether) {
  TaskPool pool(4);
  Strand strand(pool);
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::vector<int> seen;
  std::atomic<int> done{0};
  for (int i = 0; i < 200; ++i) {
    strand.post([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      seen.push_back(i);  // unguarded on purpose: the strand is the guard
      running.fetch_sub(1);
      ++done;
    });
  }
  for (int i = 0; i < 200 && done < 200; ++i) std::this_thread::sleep_for(5ms);
  pool.stop();
  ASSERT_EQ(done.load(), 200);
  EXPECT_FALSE(overlapped);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(seen[i], i);
}

}  // namespace
}  // namespace berth::simulate
