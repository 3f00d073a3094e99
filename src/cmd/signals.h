#pragma once
// How every long-running subcommand waits for its end: SIGINT/SIGTERM blocked in all threads
// (call blockShutdownSignals() before starting any thread), then waited for on the main thread.
#include <csignal>

namespace berth::cmd {

inline sigset_t blockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

inline int waitForShutdownSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace berth::cmd
