#pragma once
// WatchHub: fans committed store events out to watchers on one dispatcher thread. Shared by the
// memory and SQLite backends (header-only so that neither library has to link the other; it
// belongs in src/store/ once that folder takes implementation files).
//
// Protocol that gives a watch "replay, then live, no gap, no duplicate":
//  1. A backend publishes every committed event exactly once, in revision order, after the commit
//     is visible to readers and before the write is acknowledged (publish()).
//  2. watch() calls add(): under the hub lock the watcher is registered with floor
//     F = max(afterRevision, last published revision). Live events with revision <= F are
//     filtered out; every event > F reaches the watcher through the hub.
//  3. The backend reads history in (afterRevision, F] (already committed, by 1.) and hands it to
//     activate(); only then does the watcher start receiving, replay first, then what was
//     buffered meanwhile.
//
// Thread-safety: all methods may be called from any thread. Callbacks run on the dispatcher
// thread only, with no hub lock held, so a callback may call back into the store or destroy its
// own Watch. Cancelling a watch from another thread waits for an in-flight callback of that
// watch to return. A slow callback delays every watcher of the same store; events pending for a
// watcher are buffered without bound.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/interface.h"

namespace berth::store {

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  using EventPtr = std::shared_ptr<const Event>;

  struct Watcher {
    std::string prefix;
    WatchCallback callback;
    int64_t floor = 0;  // live events at or below this revision are covered by the replay
    // Guarded by the hub's mu_.
    std::deque<EventPtr> pending;
    bool active = false;  // replay handed over; may deliver
    bool queued = false;  // in ready_
    std::atomic<bool> cancelled{false};
  };

  explicit WatchHub(int64_t lastPublished) : lastPublished_(lastPublished) {}
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;
  ~WatchHub() { stop(); }

  void start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable() || stopping_) return;
    // The thread owns a reference so that a stop() from inside a callback (which detaches)
    // cannot free the hub under it.
    thread_ = std::thread([self = shared_from_this()] { self->run(); });
    dispatcherId_ = thread_.get_id();
  }

  // Stops the dispatcher; pending events are dropped and no callback runs afterwards (except
  // one already running, which stop() waits for unless called from a callback).
  void stop() {
    std::thread thread;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (auto& w : watchers_) w->cancelled = true;
      watchers_.clear();
      ready_.clear();
      inbox_.clear();
      thread = std::move(thread_);
    }
    cv_.notify_all();
    if (!thread.joinable()) return;
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // stop() from inside a callback: run() exits when the callback returns
    } else {
      thread.join();
    }
  }

  // Events of one commit (or several), strictly increasing revisions, all above the last
  // published revision. Cheap: the fan-out happens on the dispatcher thread.
  void publish(std::vector<Event> events) {
    if (events.empty()) return;
    std::vector<EventPtr> batch;
    batch.reserve(events.size());
    for (auto& e : events) batch.push_back(std::make_shared<const Event>(std::move(e)));
    {
      std::lock_guard lock(mu_);
      lastPublished_ = batch.back()->kv.modRevision;
      if (stopping_) return;
      inbox_.push_back(std::move(batch));
    }
    cv_.notify_all();
  }

  int64_t lastPublished() const {
    std::lock_guard lock(mu_);
    return lastPublished_;
  }

  // Registers a watcher (inactive until activate()). Its floor tells the backend the last
  // revision its replay must cover. afterRevision 0 means "from now".
  std::shared_ptr<Watcher> add(std::string_view prefix, int64_t afterRevision,
                               WatchCallback callback) {
    auto w = std::make_shared<Watcher>();
    w->prefix = std::string(prefix);
    w->callback = std::move(callback);
    std::lock_guard lock(mu_);
    w->floor = std::max(afterRevision, lastPublished_);
    if (stopping_) {
      w->cancelled = true;
    } else {
      watchers_.push_back(w);
    }
    return w;
  }

  // Hands over the replay (events in (afterRevision, floor], revision order) and starts delivery.
  void activate(const std::shared_ptr<Watcher>& w, std::vector<Event> replay) {
    {
      std::lock_guard lock(mu_);
      for (auto it = replay.rbegin(); it != replay.rend(); ++it) {
        w->pending.push_front(std::make_shared<const Event>(std::move(*it)));
      }
      w->active = true;
      enqueueIfReady(w);
    }
    cv_.notify_all();
  }

  // Removes a watcher; on return its callback is not running and will not run again (unless
  // called from that very callback, which then finishes normally).
  void cancel(const std::shared_ptr<Watcher>& w) {
    std::unique_lock lock(mu_);
    w->cancelled = true;
    std::erase(watchers_, w);
    w->pending.clear();
    if (std::this_thread::get_id() == dispatcherId_) return;
    idle_.wait(lock, [&] { return delivering_ != w.get(); });
  }

  // The Watch handle a backend returns; keeps the hub alive so that it may outlive the store.
  class Handle : public Watch {
   public:
    Handle(std::shared_ptr<WatchHub> hub, std::shared_ptr<Watcher> watcher)
        : hub_(std::move(hub)), watcher_(std::move(watcher)) {}
    ~Handle() override { hub_->cancel(watcher_); }

   private:
    std::shared_ptr<WatchHub> hub_;
    std::shared_ptr<Watcher> watcher_;
  };

  std::unique_ptr<Watch> handle(std::shared_ptr<Watcher> w) {
    return std::make_unique<Handle>(shared_from_this(), std::move(w));
  }

 private:
  static bool matches(const Watcher& w, const Event& e) {
    return std::string_view(e.kv.key).starts_with(w.prefix);
  }

  void enqueueIfReady(const std::shared_ptr<Watcher>& w) {
    if (w->active && !w->queued && !w->pending.empty() && !w->cancelled) {
      w->queued = true;
      ready_.push_back(w);
    }
  }

  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !inbox_.empty() || !ready_.empty(); });
      if (stopping_) break;
      while (!inbox_.empty()) {
        auto batch = std::move(inbox_.front());
        inbox_.pop_front();
        for (auto& w : watchers_) {
          bool added = false;
          for (const auto& e : batch) {
            if (e->kv.modRevision > w->floor && matches(*w, *e)) {
              w->pending.push_back(e);
              added = true;
            }
          }
          if (added) enqueueIfReady(w);
        }
      }
      while (!ready_.empty() && inbox_.empty() && !stopping_) {
        auto w = std::move(ready_.front());
        ready_.pop_front();
        w->queued = false;
        if (w->cancelled) continue;
        auto events = std::move(w->pending);
        w->pending.clear();
        delivering_ = w.get();
        lock.unlock();
        for (const auto& e : events) {
          if (w->cancelled.load()) break;
          w->callback(*e);
        }
        lock.lock();
        delivering_ = nullptr;
        idle_.notify_all();
        enqueueIfReady(w);  // events that arrived while delivering
      }
    }
    delivering_ = nullptr;
    idle_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;    // work for the dispatcher
  std::condition_variable idle_;  // a delivery finished
  int64_t lastPublished_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  std::deque<std::vector<EventPtr>> inbox_;
  std::deque<std::shared_ptr<Watcher>> ready_;
  const Watcher* delivering_ = nullptr;
  std::thread thread_;
  std::thread::id dispatcherId_;
};

}  // namespace berth::store
