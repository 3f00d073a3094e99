#pragma once
// The CrashLoopBackOff of restarted containers, as the kubelet's flowcontrol.Backoff is used:
// a dead container may restart unless it died less than its current backoff ago; each restart
// doubles the backoff (10 s, 20 s, ... capped at 5 min); a container that stayed up longer than
// twice the cap starts over at 10 s.
//
// Thread-safety: one mutex; safe from any thread.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace berth::kubelet {

class Backoff {
 public:
  using Clock = std::chrono::system_clock;
  explicit Backoff(std::chrono::seconds initial = std::chrono::seconds(10),
                   std::chrono::seconds max = std::chrono::seconds(300))
      : initial_(initial), max_(max) {}

  // Whether the container (key) that finished at `finishedAt` must still wait at `now`; the
  // remaining wait goes to *remaining.
  bool inBackoff(const std::string& key, Clock::time_point finishedAt, Clock::time_point now,
                 std::chrono::milliseconds* remaining = nullptr) const;
  // Records a restart after the death at `finishedAt`.
  void next(const std::string& key, Clock::time_point finishedAt);
  // The backoff the next death would wait (0 when none is recorded).
  std::chrono::seconds current(const std::string& key) const;
  void forget(const std::string& keyPrefix);

 private:
  struct Entry {
    std::chrono::seconds backoff;
    Clock::time_point lastUpdate;
  };
  bool expired(const Entry& e, Clock::time_point at) const { return at - e.lastUpdate > 2 * max_; }

  const std::chrono::seconds initial_, max_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::kubelet
