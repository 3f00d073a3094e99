#pragma once
// A sync that throws (a JSON accessor meeting an object of an unexpected shape) must not end the
// process: the exception becomes an Internal error, which the work queue retries with backoff.
//
// Thread-safety: as the wrapped function.
#include <exception>
#include <string>

#include "core/status.h"

namespace berth::controllers {

template <typename Fn>
core::Status guardedSync(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return core::Status::internal(std::string("sync failed: ") + e.what());
  }
}

}  // namespace berth::controllers
