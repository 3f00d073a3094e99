#pragma once
// Test helpers for streams adopted by the StreamLoop: a socketpair whose server end the loop
// writes (non-blocking) and whose client end the test reads, and a probe recording how the
// stream ended. Used by the loop's own tests and the watch stream's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "apiserver/http/internal/stream_loop.h"

namespace berth::apiserver::http::internal {

// One end of a socketpair for the loop (non-blocking), the other for the test's client.
struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server = fds[0];
    client = fds[1];
    ::fcntl(server, F_SETFL, ::fcntl(server, F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
  // Reads what arrives within `timeout` until `until` appears (or EOF).
  std::string readUntil(const std::string& until,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.find(until) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(client, buf, sizeof(buf), 0);
      if (n <= 0) break;
      received.append(buf, static_cast<size_t>(n));
    }
    return received;
  }
  int server = -1;
  int client = -1;
  std::string received;
};

// Records how a stream ended.
struct DoneProbe {
  StreamLoop::Done callback() {
    return [this](bool reusable) {
      std::lock_guard lock(mu);
      done = true;
      this->reusable = reusable;
      cv.notify_all();
    };
  }
  bool waitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [this] { return done; });
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool reusable = false;
};

}  // namespace berth::apiserver::http::internal
