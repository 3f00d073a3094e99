#pragma once
// Clock: the time source of the client library's timers (rate limiters, the work queue's delays,
// leader election), an interface so tests can drive time by hand instead of sleeping.
//
// Thread-safety: implementations are safe to call from any thread.
#include <atomic>
#include <chrono>

namespace berth::client {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Whether waits should use real time; a fake clock makes waiting threads poll now() instead.
  virtual bool isReal() const { return false; }

  // The process-wide real (steady) clock.
  static Clock& real();
};

// A clock that moves only when told to; starts at an arbitrary fixed point.
class FakeClock : public Clock {
 public:
  TimePoint now() const override { return TimePoint(Duration(ticks_.load())); }
  void advance(Duration d) { ticks_ += d.count(); }

 private:
  std::atomic<Duration::rep> ticks_{Duration(std::chrono::hours(1)).count()};
};

}  // namespace berth::client
