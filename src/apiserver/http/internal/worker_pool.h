#pragma once
// Threads for connections that have something to do. A task (serving a connection until it parks
// or closes) may block for minutes (a watch), so the pool never queues: submit() hands the task
// to an idle thread or starts a new one, and the number of threads follows the number of busy
// connections (bounded by the server's connection cap). Threads idle for `idleExit` end, except
// `keepIdle` of them, so a burst of watches does not leave thousands of threads behind; a thread
// idle for a second first gives back the stack pages its last task touched (thread_memory.h).
//
// Thread-safety: submit() from any thread; stop() once, from the owner, after the last submit().
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace berth::apiserver::http::internal {

class WorkerPool {
 public:
  WorkerPool(size_t keepIdle, std::chrono::milliseconds idleExit)
      : keepIdle_(keepIdle), idleExit_(idleExit) {}
  ~WorkerPool() { stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> task);
  // Waits for running tasks to return, then ends every thread.
  void stop();
  size_t threads() const;

 private:
  struct Worker {
    std::thread thread;
    bool done = false;  // guarded by mu_: the thread has left its loop and may be joined
  };
  void run(Worker* self);
  void reapLocked();

  const size_t keepIdle_;
  const std::chrono::milliseconds idleExit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_; never longer than idle_
  std::list<Worker> workers_;                // guarded by mu_
  size_t idle_ = 0;                          // guarded by mu_: threads waiting for a task
  bool stopping_ = false;                    // guarded by mu_
};

}  // namespace berth::apiserver::http::internal
