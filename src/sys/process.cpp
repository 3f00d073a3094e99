#include "sys/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

extern char** environ;

namespace berth::sys {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void closeEnd(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

std::vector<char*> cStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

core::Result<ProcessResult> runProcess(const std::vector<std::string>& argv,
                                       const ProcessOptions& options) {
  if (argv.empty()) return core::Status::badRequest("runProcess: empty argv");
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 ||
      ::pipe2(err.fd, O_CLOEXEC) != 0)
    return core::Status::internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  // Only stdio: a descriptor someone opened without O_CLOEXEC (Asio's sockets, a library's file)
  // would otherwise live on in long-running children such as container shims and nginx.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The agent blocks SIGINT/SIGTERM in every thread (cmd/signals.h); children must not inherit
  // that mask, nor SIGPIPE ignored.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  auto args = cStrings(argv);
  auto envStrings = cStrings(options.env);
  char** envp = options.env.empty() ? environ : envStrings.data();
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return core::Status::internal("cannot run " + argv[0] + ": " + std::strerror(rc));
  in.closeEnd(0);
  out.closeEnd(1);
  err.closeEnd(1);

  ProcessResult result;
  size_t written = 0;
  if (options.stdinData.empty()) in.closeEnd(1);
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timedOut = false, cancelled = false;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out.fd[0] >= 0) fds[n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[n++] = {err.fd[0], POLLIN, 0};
    if (in.fd[1] >= 0) fds[n++] = {in.fd[1], POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    if (options.cancelled) {
      if (options.cancelled()) {
        cancelled = timedOut = true;
        break;
      }
      left = std::min<long long>(left, 100);
    }
    int r = ::poll(fds, n, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r == 0) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in.fd[1]) {
        ssize_t w = ::write(in.fd[1], options.stdinData.data() + written,
                            options.stdinData.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == options.stdinData.size()) in.closeEnd(1);
        continue;
      }
      char buf[8192];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      bool isOut = fds[i].fd == out.fd[0];
      if (got <= 0) {
        (isOut ? out : err).closeEnd(0);
      } else {
        (isOut ? result.out : result.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  if (timedOut) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (cancelled) return core::Status::generic(499, "Cancelled", argv[0] + ": context canceled");
  if (timedOut)
    return core::Status::timeout(argv[0] + " did not finish within " +
                                 std::to_string(options.timeout.count()) + " ms");
  result.exitCode = exitCodeOf(status);
  return result;
}

std::string describeFailure(const std::vector<std::string>& argv, const ProcessResult& r) {
  std::string cmd;
  for (size_t i = 0; i < argv.size() && i < 3; ++i) cmd += (i ? " " : "") + argv[i];
  std::string msg = r.err.empty() ? r.out : r.err;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return cmd + ": exit " + std::to_string(r.exitCode) + (msg.empty() ? "" : ": " + msg);
}

}  // namespace berth::sys
