#pragma once
// Run n independent calls (API writes of one sync) on a few threads, as upstream's goroutine per
// create/delete, bounded so a burst of 500 does not start 500 threads.
//
// Thread-safety: `fn` is called concurrently from up to `maxThreads` threads.
#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace berth::controllers {

inline void parallelFor(size_t n, const std::function<void(size_t)>& fn, size_t maxThreads = 16) {
  if (n == 0) return;
  if (n == 1) {
    fn(0);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(n, maxThreads); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace berth::controllers
