#include "simulate/task_pool.h"

namespace berth::simulate {

TaskPool::TaskPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { workerLoop(); });
}

TaskPool::~TaskPool() { stop(); }

void TaskPool::post(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ready_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskPool::postAt(Clock::time_point at, Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    timers_.push(Timer{at, seq_++, std::move(task)});
  }
  // Any waiting worker re-computes its deadline; one is enough.
  cv_.notify_one();
}

size_t TaskPool::queued() const {
  std::lock_guard lock(mu_);
  return ready_.size() + timers_.size();
}

void TaskPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    while (!timers_.empty()) timers_.pop();
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  threads_.clear();
}

void TaskPool::workerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto now = Clock::now();
    while (!timers_.empty() && timers_.top().at <= now) {
      // priority_queue::top is const; the task is moved out just before pop.
      ready_.push_back(std::move(const_cast<Timer&>(timers_.top()).task));
      timers_.pop();
    }
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      if (!ready_.empty()) cv_.notify_one();
      lock.unlock();
      task();
      task = nullptr;  // destroy captured state outside the lock too
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, timers_.top().at);
    }
  }
}

void Strand::post(TaskPool::Task task) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(task));
    schedule = !scheduled_;
    scheduled_ = true;
  }
  if (schedule) pool_.post([this] { drain(); });
}

void Strand::drain() {
  // Runs a bounded batch, then yields the thread so one busy node cannot starve the others.
  for (int i = 0; i < 16; ++i) {
    TaskPool::Task task;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) {
        scheduled_ = false;
        return;
      }
      task = std::move(pending_.front());
      pending_.pop_front();
    }
    task();
  }
  pool_.post([this] { drain(); });
}

}  // namespace berth::simulate
