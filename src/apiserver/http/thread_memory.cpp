// Giving an idle handler thread's unused stack pages back (see thread_memory.h).
#include "apiserver/http/thread_memory.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "apiserver/http/internal/tls_stream.h"

namespace berth::apiserver::http {

namespace {

// Below the caller's frame, this much stays: this function's frame, madvise()'s and a signal
// handler's would otherwise lie in pages being dropped while they run. Dropped pages are only
// zero-filled again, never unmapped, so touching one later is safe; the margin keeps the frames
// that are live during the call off them.
constexpr uintptr_t kStackMargin = 8 * 1024;

uintptr_t pageSize() {
  static const uintptr_t size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

__attribute__((noinline)) void releaseIdleThreadMemory() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* base = nullptr;
  size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0 || base == nullptr) return;
  uintptr_t low = reinterpret_cast<uintptr_t>(base);
  uintptr_t frame = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (frame < low + kStackMargin) return;
  uintptr_t high = (frame - kStackMargin) & ~(pageSize() - 1);  // stacks grow down
  if (high > low) madvise(base, high - low, MADV_DONTNEED);
  internal::TlsStream::releaseGatherBuffer();
}

}  // namespace berth::apiserver::http
