#include "kubelet/streaming/stdio_targets.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace berth::kubelet::streaming {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void writeFully(int fd, std::string_view data) {
  while (fd >= 0 && !data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::atomic<uint64_t> execCounter{0};

class RuncExec final : public StdioTarget {
 public:
  ~RuncExec() override {
    closeFd(stdin_);
    closeFd(stdout_);
    closeFd(stderr_);
    closeFd(tty_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }

  core::Status start(const ContainerInfo& c, const std::vector<std::string>& command,
                     const StdioOptions& options, const std::string& runc,
                     const std::string& scratchDir) {
    scratch_ = scratchDir + "/exec-" + std::to_string(::getpid()) + "-" +
               std::to_string(execCounter.fetch_add(1));
    std::error_code ec;
    std::filesystem::create_directories(scratch_, ec);
    if (ec) return core::Status::internal("cannot create " + scratch_ + ": " + ec.message());
    pidFile_ = scratch_ + "/pid";
    std::vector<std::string> args = {runc, "--root", c.runtimeRoot, "exec", "--pid-file", pidFile_};
    // TTY: runc allocates the container's terminal and relays it to its own stdio, which is a
    // pseudo-terminal of ours. runc follows our terminal's size on SIGWINCH, which the kernel
    // sends when we resize our master. (A console socket would need a detached runc, whose
    // exit code only a subreaper could collect.)
    if (options.tty) args.push_back("--tty");
    args.push_back(c.containerId);
    args.insert(args.end(), command.begin(), command.end());
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int master = -1, slave = -1;
    if (options.tty) {
      winsize ws{};
      ws.ws_col = 80;
      ws.ws_row = 24;
      if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0)
        return core::Status::internal("openpty: " + std::string(std::strerror(errno)));
      ::fcntl(master, F_SETFD, FD_CLOEXEC);
    } else if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
               ::pipe2(err, O_CLOEXEC) != 0) {
      // Non-TTY: the container process gets these pipes as its stdio (runc passes them through).
      return core::Status::internal("pipe: " + std::string(std::strerror(errno)));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setsid();
      if (options.tty) ::ioctl(slave, TIOCSCTTY, 0);
      ::dup2(options.tty ? slave : in[0], 0);
      ::dup2(options.tty ? slave : out[1], 1);
      ::dup2(options.tty ? slave : err[1], 2);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    if (pid < 0) return core::Status::internal("fork: " + std::string(std::strerror(errno)));
    pid_ = pid;
    if (options.tty) {
      ::close(slave);
      tty_ = master;
      stdin_ = ::dup(master);
    } else {
      ::close(in[0]);
      ::close(out[1]);
      ::close(err[1]);
      stdin_ = in[1];
      stdout_ = out[0];
      stderr_ = err[0];
      if (!options.stdin) closeFd(stdin_);
    }
    return {};
  }

  std::vector<int> outputFds() override {
    std::vector<int> fds;
    for (int fd : {stdout_, stderr_, tty_})
      if (fd >= 0) fds.push_back(fd);
    return fds;
  }

  void readOutput(int fd, std::vector<std::pair<int, std::string>>& out) override {
    char buf[32768];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {  // EOF, or EIO on a pty master once the command exited
      if (fd == stdout_) closeFd(stdout_);
      if (fd == stderr_) closeFd(stderr_);
      if (fd == tty_) closeFd(tty_);
      return;
    }
    if (fd == tty_ && !winched_) {
      // Output proves runc holds the container's terminal now; a SIGWINCH makes it copy our
      // size there, in case a resize came before runc could apply it.
      winched_ = true;
      if (pid_ > 0) ::kill(pid_, SIGWINCH);
      resizeCommandTerminal();
    }
    out.emplace_back(fd == stderr_ ? 2 : 1, std::string(buf, static_cast<size_t>(n)));
  }

  void writeStdin(std::string_view data) override { writeFully(stdin_, data); }

  void closeStdin() override {
    if (tty_ >= 0) {
      // A terminal has no half-close: send the EOF character instead, as a user would.
      char eot = 4;
      writeFully(stdin_, std::string_view(&eot, 1));
      return;
    }
    closeFd(stdin_);
  }

  void resize(uint16_t width, uint16_t height) override {
    if (tty_ < 0 || width == 0 || height == 0) return;
    winsize ws{};
    ws.ws_col = width;
    ws.ws_row = height;
    ::ioctl(tty_, TIOCSWINSZ, &ws);
    size_ = ws;
    resizeCommandTerminal();
  }

  StdioOutcome wait() override {
    closeFd(stdin_);
    if (pid_ > 0) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      exitStatus_ = status;
      pid_ = -1;
    }
    if (WIFEXITED(exitStatus_)) return StdioOutcome{WEXITSTATUS(exitStatus_), ""};
    if (WIFSIGNALED(exitStatus_)) return StdioOutcome{128 + WTERMSIG(exitStatus_), ""};
    return StdioOutcome{0, "runc exec ended without an exit status"};
  }

  void abort() override {
    // runc forwards signals to the command, except SIGKILL; kill the command itself first.
    std::ifstream in(pidFile_);
    pid_t commandPid = 0;
    if (in >> commandPid && commandPid > 0) ::kill(commandPid, SIGKILL);
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

 private:
  // The size straight onto the command's own terminal (its stdin, the pty the runtime made in
  // the container). runc also copies it there on SIGWINCH; crun's exec relay does not, so
  // without this a TTY exec under crun keeps its first size.
  void resizeCommandTerminal() {
    if (size_.ws_col == 0) return;
    std::ifstream in(pidFile_);
    pid_t commandPid = 0;
    if (!(in >> commandPid) || commandPid <= 0) return;  // not started yet: done on first output
    std::string path = "/proc/" + std::to_string(commandPid) + "/fd/0";
    int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    if (::isatty(fd)) ::ioctl(fd, TIOCSWINSZ, &size_);
    ::close(fd);
  }

  std::string scratch_, pidFile_;
  winsize size_{};
  pid_t pid_ = -1;
  int exitStatus_ = 0;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1, tty_ = -1;
  bool winched_ = false;
};

class Attach final : public StdioTarget {
 public:
  ~Attach() override { closeFd(fd_); }

  core::Status connect(const ContainerInfo& c, const StdioOptions& options) {
    options_ = options;
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (c.attachSocket.empty() || c.attachSocket.size() >= sizeof(addr.sun_path))
      return core::Status::internal("container has no attach socket");
    std::memcpy(addr.sun_path, c.attachSocket.c_str(), c.attachSocket.size() + 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return core::Status::internal("cannot attach to container: " +
                                    std::string(std::strerror(errno)));
    return {};
  }

  std::vector<int> outputFds() override {
    if (fd_ < 0) return {};
    return {fd_};
  }

  void readOutput(int fd, std::vector<std::pair<int, std::string>>& out) override {
    char buf[32768];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
      closeFd(fd_);
      return;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    while (buffer_.size() >= 5) {
      uint32_t len = (uint32_t{static_cast<uint8_t>(buffer_[1])} << 24) |
                     (uint32_t{static_cast<uint8_t>(buffer_[2])} << 16) |
                     (uint32_t{static_cast<uint8_t>(buffer_[3])} << 8) |
                     static_cast<uint8_t>(buffer_[4]);
      if (buffer_.size() < 5 + size_t{len}) break;
      auto stream = static_cast<uint8_t>(buffer_[0]);
      std::string payload = buffer_.substr(5, len);
      buffer_.erase(0, 5 + size_t{len});
      if (stream == 5) {
        exitCode_ = std::atoi(payload.c_str());
        exited_ = true;
        closeFd(fd_);
        return;
      }
      if ((stream == 1 && options_.stdout) || (stream == 2 && options_.stderr))
        out.emplace_back(stream, std::move(payload));
    }
  }

  void writeStdin(std::string_view data) override {
    if (options_.stdin) writeFully(fd_, attachFrame(0, data));
  }
  // The shim decides what the end of this client's stdin means (stdinOnce, TTY).
  void closeStdin() override {
    if (!options_.stdin || stdinEnded_) return;
    stdinEnded_ = true;
    writeFully(fd_, attachFrame(4, {}));
  }
  void resize(uint16_t width, uint16_t height) override {
    writeFully(fd_, attachFrame(3, "{\"Width\":" + std::to_string(width) +
                                       ",\"Height\":" + std::to_string(height) + "}"));
  }
  StdioOutcome wait() override {
    if (!exited_) return StdioOutcome{0, ""};
    return StdioOutcome{exitCode_, ""};
  }
  // Detaching ends this client's stdin too: a stdinOnce container's first attach is its last.
  void abort() override {
    closeStdin();
    closeFd(fd_);
  }

 private:
  StdioOptions options_;
  bool stdinEnded_ = false;
  int fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
  int exitCode_ = 0;
};

}  // namespace

std::string attachFrame(uint8_t stream, std::string_view payload) {
  std::string out(1, static_cast<char>(stream));
  auto n = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(payload);
  return out;
}

core::Result<std::unique_ptr<StdioTarget>> startRuncExec(const ContainerInfo& container,
                                                         const std::vector<std::string>& command,
                                                         const StdioOptions& options,
                                                         const std::string& runcBinary,
                                                         const std::string& scratchDir) {
  auto target = std::make_unique<RuncExec>();
  if (auto st = target->start(container, command, options, runcBinary, scratchDir); !st.ok())
    return st;
  return std::unique_ptr<StdioTarget>(std::move(target));
}

core::Result<std::unique_ptr<StdioTarget>> connectAttach(const ContainerInfo& container,
                                                         const StdioOptions& options) {
  auto target = std::make_unique<Attach>();
  if (auto st = target->connect(container, options); !st.ok()) return st;
  return std::unique_ptr<StdioTarget>(std::move(target));
}

}  // namespace berth::kubelet::streaming
