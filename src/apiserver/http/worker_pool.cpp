// Elastic thread pool for connection work (see internal/worker_pool.h).
#include "apiserver/http/internal/worker_pool.h"

#include <utility>

#include "apiserver/http/thread_memory.h"

namespace berth::apiserver::http::internal {

namespace {
constexpr auto kReleaseAfter = std::chrono::seconds(1);
}  // namespace

void WorkerPool::submit(std::function<void()> task) {
  std::unique_lock lock(mu_);
  if (stopping_) return;
  reapLocked();
  tasks_.push_back(std::move(task));
  if (idle_ >= tasks_.size()) {
    cv_.notify_one();
    return;
  }
  // Every idle thread already has a task waiting for it: this one needs a thread of its own.
  Worker& worker = workers_.emplace_back();
  worker.thread = std::thread([this, self = &worker] { run(self); });
}

void WorkerPool::run(Worker* self) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (tasks_.empty()) {
      if (stopping_) break;
      ++idle_;
      auto ready = [this] { return stopping_ || !tasks_.empty(); };
      bool woken = cv_.wait_for(lock, kReleaseAfter, ready);
      if (!woken) {
        // Idle for a while (a burst of watches has been handed to the stream loop): the stack
        // pages the last task touched go back while the thread waits for work or its exit.
        lock.unlock();
        releaseIdleThreadMemory();
        lock.lock();
        woken = cv_.wait_for(lock, idleExit_, ready);
      }
      --idle_;
      if (!woken && idle_ >= keepIdle_) break;  // idle too long and enough others stay
      continue;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // whatever it captured goes before the lock is taken again
    lock.lock();
  }
  self->done = true;
}

void WorkerPool::reapLocked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done) {
      it->thread.join();  // past its last use of the pool's state; returns at once
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void WorkerPool::stop() {
  std::list<Worker> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  // Threads finish their current task (the server has made blocked I/O fail), drain the queue
  // and leave. Joining happens without the lock they need to get out.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      workers.splice(workers.end(), workers_);
    }
    if (workers.empty()) break;
    for (auto& worker : workers) worker.thread.join();
    workers.clear();
  }
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

}  // namespace berth::apiserver::http::internal
