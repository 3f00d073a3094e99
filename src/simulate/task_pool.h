#pragma once
// TaskPool: a few worker threads running posted tasks and timers (a min-heap of deadlines), the
// whole execution engine of `berth simulate`: thousands of simulated nodes share it instead of
// holding a thread each. Strand: tasks of one owner (a node) run one at a time, in post order,
// on any of the pool's threads, so a node's state needs no lock of its own.
//
// Thread-safety: every method is safe from any thread. stop() drops timers not yet due, lets
// queued and running tasks finish, and joins the workers; posts after stop() are dropped.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace berth::simulate {

class TaskPool {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  explicit TaskPool(int threads);
  ~TaskPool();

  void post(Task task);
  void postAt(Clock::time_point at, Task task);
  void postAfter(Clock::duration delay, Task task) {
    postAt(Clock::now() + delay, std::move(task));
  }
  void stop();

  size_t queued() const;  // tasks due or not yet due

 private:
  struct Timer {
    Clock::time_point at;
    uint64_t seq;  // FIFO among equal deadlines
    Task task;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void workerLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> ready_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t seq_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class Strand {
 public:
  explicit Strand(TaskPool& pool) : pool_(pool) {}
  void post(TaskPool::Task task);

 private:
  void drain();

  TaskPool& pool_;
  std::mutex mu_;
  std::deque<TaskPool::Task> pending_;
  bool scheduled_ = false;  // a drain() is queued or running
};

}  // namespace berth::simulate
