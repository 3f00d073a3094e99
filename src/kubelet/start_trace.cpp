#include "kubelet/start_trace.h"

#include <cstdlib>
#include <iostream>

namespace berth::kubelet {

namespace {
long long msBetween(std::chrono::steady_clock::time_point a,
                    std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}
}  // namespace

bool StartTrace::enabled() {
  static const bool on = std::getenv("BERTH_POD_START_TRACE") != nullptr;
  return on;
}

void StartTrace::begin(long long queuedMs) {
  if (!enabled()) return;
  active_ = true;
  start_ = last_ = Clock::now();
  startUnixMs_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  steps_ = queuedMs >= 0 ? " queue=" + std::to_string(queuedMs) : "";
}

void StartTrace::mark(const char* step) {
  if (!active_) return;
  auto now = Clock::now();
  steps_ += " " + std::string(step) + "=" + std::to_string(msBetween(last_, now));
  last_ = now;
}

void StartTrace::finish(const std::string& pod) {
  if (!active_) return;
  active_ = false;
  std::cerr << "berth agent: pod-start " + pod + " at=" + std::to_string(startUnixMs_) + steps_ +
                   " total=" + std::to_string(msBetween(start_, Clock::now())) + "\n"
            << std::flush;
}

}  // namespace berth::kubelet
