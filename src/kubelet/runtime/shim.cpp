#include "kubelet/runtime/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "kubelet/logs/log_files.h"
#include "kubelet/runtime/shim_args.h"
#include "kubelet/runtime/shim_frames.h"
#include "sys/process.h"

namespace json = boost::json;

extern char** environ;

namespace berth::kubelet::runtime {

namespace {

std::string formatTime(bool nanos) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  if (nanos) n += std::snprintf(buf + n, sizeof buf - n, ".%09ld", ts.tv_nsec);
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

void writeFileAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data;
  }
  ::rename(tmp.c_str(), path.c_str());
}

bool writeAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t w = ::write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    len -= static_cast<size_t>(w);
  }
  return true;
}

// A listening unix socket at `path` (replacing a stale one); -1 on failure.
int listenUnix(const std::string& path, int backlog) {
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof addr.sun_path) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The terminal master `runc create --console-socket` sent to `listenFd` (SCM_RIGHTS on one
// connection); -1 when none came within `timeoutMs`.
int receiveConsole(int listenFd, int timeoutMs) {
  pollfd p{listenFd, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) <= 0) return -1;
  int conn = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return -1;
  char name[4096];  // runc sends the terminal's path as the message
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  int master = -1;
  ssize_t n;
  while ((n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n >= 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&master, CMSG_DATA(c), sizeof(int));
  }
  ::close(conn);
  return master;
}

// The shim's running state: the log file and the attach clients, shared by its threads.
class Shim {
 public:
  explicit Shim(const ShimOptions& o)
      : o_(o), log_(o.logPath, {o.logMaxSize, std::max(2, o.logMaxFiles), true}) {}
  int run(int notifyFd);

 private:
  bool createAndStart(std::string& error);
  void pump(int fd, int stream);
  void logLine(const char* stream, std::string_view text, bool partial);
  void broadcast(int stream, const char* data, size_t len);
  void acceptLoop();
  void serveClient(int fd);
  void writeStdin(std::string_view data);
  void stdinEnded();
  std::string cgroupOomKills();

  const ShimOptions& o_;
  int outPipe_[2] = {-1, -1}, errPipe_[2] = {-1, -1}, inPipe_[2] = {-1, -1};
  int master_ = -1;  // a TTY container's terminal: its output, input and size
  int pid_ = 0;
  std::string startedAt_;
  std::mutex mu_;  // guards log_, clients_
  // Guards inPipe_[1] and master_ writes apart from mu_: a container that does not read its
  // input must not stall the output relay.
  std::mutex inMu_;
  logs::CriLogWriter log_;
  std::vector<int> clients_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
};

bool Shim::createAndStart(std::string& error) {
  if (::pipe2(outPipe_, O_CLOEXEC) != 0 || ::pipe2(errPipe_, O_CLOEXEC) != 0) return false;
  if (o_.stdinOpen && !o_.tty && ::pipe2(inPipe_, O_CLOEXEC) != 0) return false;
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::string pidFile = o_.bundle + "/init.pid";
  std::string runcLog = o_.bundle + "/runc.log";
  std::vector<std::string> argv = {o_.runcBinary, "--root", o_.runcRoot, "--log", runcLog,
                                   "create", "--bundle", o_.bundle, "--pid-file", pidFile};
  // TTY: runc creates the terminal and sends its master here; runc's own stdio (the pipes)
  // then carries only runc's errors.
  std::string consolePath = o_.bundle + "/console.sock";
  int consoleFd = -1;
  if (o_.tty) {
    consoleFd = listenUnix(consolePath, 1);
    if (consoleFd < 0) {
      error = "cannot listen on " + consolePath + ": " + std::strerror(errno);
      return false;
    }
    argv.insert(argv.end(), {"--console-socket", consolePath});
  }
  argv.push_back(o_.id);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, inPipe_[0] >= 0 ? inPipe_[0] : devnull, 0);
  posix_spawn_file_actions_adddup2(&actions, outPipe_[1], 1);
  posix_spawn_file_actions_adddup2(&actions, errPipe_[1], 2);
  pid_t runc = 0;
  int rc = ::posix_spawnp(&runc, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(devnull);
  ::close(outPipe_[1]);
  ::close(errPipe_[1]);
  if (inPipe_[0] >= 0) ::close(inPipe_[0]);
  if (rc != 0) {
    error = std::string("cannot run runc: ") + std::strerror(rc);
    if (consoleFd >= 0) ::close(consoleFd);
    return false;
  }
  int status = 0;
  while (::waitpid(runc, &status, 0) < 0 && errno == EINTR) {
  }
  if (consoleFd >= 0) {
    // runc sent the master before `create` returned; it waits in the socket's backlog.
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) master_ = receiveConsole(consoleFd, 5000);
    ::close(consoleFd);
    ::unlink(consolePath.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && master_ < 0) {
      error = "runc sent no terminal to the console socket";
      return false;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // runc's own error went to its stderr, which is the container's stderr pipe.
    ::fcntl(errPipe_[0], F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n = ::read(errPipe_[0], buf, sizeof buf);
    error = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "runc create failed";
    while (!error.empty() && error.back() == '\n') error.pop_back();
    return false;
  }
  auto started = sys::runProcess({o_.runcBinary, "--root", o_.runcRoot, "start", o_.id});
  if (!started.ok() || started->exitCode != 0) {
    error = started.ok() ? sys::describeFailure({"runc", "start"}, *started)
                         : started.status().message();
    return false;
  }
  std::ifstream pidIn(pidFile);
  pidIn >> pid_;
  startedAt_ = rfc3339Now();
  return pid_ > 0;
}

void Shim::logLine(const char* stream, std::string_view text, bool partial) {
  std::lock_guard lock(mu_);
  log_.write(rfc3339NanoNow() + ' ' + stream + ' ' + (partial ? 'P' : 'F') + ' ' +
             std::string(text) + '\n');
}

void Shim::broadcast(int stream, const char* data, size_t len) {
  std::lock_guard lock(mu_);
  if (clients_.empty()) return;
  std::string frame = encodeAttachFrame(static_cast<uint8_t>(stream), std::string_view(data, len));
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (writeAll(*it, frame.data(), frame.size())) {
      ++it;
    } else {
      ::shutdown(*it, SHUT_RDWR);
      it = clients_.erase(it);
    }
  }
}

void Shim::pump(int fd, int stream) {
  const char* name = stream == 1 ? "stdout" : "stderr";
  constexpr size_t kMaxLine = 16 * 1024;  // the CRI splits longer lines into partial ones
  std::string pending;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    broadcast(stream, buf, static_cast<size_t>(n));
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      // A line ends with "\n" or "\r\n" (a terminal's), as containerd's CRI logger reads it.
      size_t end = nl > start && pending[nl - 1] == '\r' ? nl - 1 : nl;
      logLine(name, std::string_view(pending).substr(start, end - start), false);
      start = nl + 1;
    }
    pending.erase(0, start);
    while (pending.size() >= kMaxLine) {
      logLine(name, std::string_view(pending).substr(0, kMaxLine), true);
      pending.erase(0, kMaxLine);
    }
  }
  if (!pending.empty()) logLine(name, pending, true);
  ::close(fd);
}

void Shim::writeStdin(std::string_view data) {
  std::lock_guard lock(inMu_);
  int fd = o_.tty ? (o_.stdinOpen ? master_ : -1) : inPipe_[1];
  if (fd >= 0) writeAll(fd, data.data(), data.size());
}

void Shim::stdinEnded() {
  // Docker's and the CRI's rule: only a stdinOnce container without a terminal loses its
  // stdin when an attached client's input ends; otherwise the next attach may type on.
  if (!o_.stdinOnce || o_.tty) return;
  std::lock_guard lock(inMu_);
  if (inPipe_[1] >= 0) ::close(inPipe_[1]);
  inPipe_[1] = -1;
}

void Shim::serveClient(int fd) {
  AttachFrameDecoder decoder;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto frame = decoder.next()) {
      if (frame->stream == kAttachStdin) {
        writeStdin(frame->payload);
      } else if (frame->stream == kAttachStdinEnded) {
        stdinEnded();
      } else if (frame->stream == kAttachResize) {
        // The kernel sends SIGWINCH to the terminal's foreground process group.
        if (auto size = parseWindowSize(frame->payload)) {
          winsize ws{};
          ws.ws_col = size->width;
          ws.ws_row = size->height;
          std::lock_guard lock(inMu_);
          if (master_ >= 0) ::ioctl(master_, TIOCSWINSZ, &ws);
        }
      }
    }
    if (decoder.broken()) break;
  }
  std::lock_guard lock(mu_);
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (*it == fd) {
      clients_.erase(it);
      break;
    }
  }
  ::close(fd);
}

void Shim::acceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listenFd_, POLLIN, 0}, {stopPipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      clients_.push_back(fd);
    }
    std::thread([this, fd] { serveClient(fd); }).detach();
  }
}

std::string Shim::cgroupOomKills() {
  std::ifstream in("/sys/fs/cgroup/memory" + o_.cgroup + "/memory.oom_control");
  std::string key, value;
  while (in >> key >> value)
    if (key == "oom_kill") return value;
  return "0";
}

int Shim::run(int notifyFd) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::string error;
  std::string createdAt = rfc3339Now();
  if (!createAndStart(error)) {
    json::object exit{{"exitCode", 128}, {"oomKilled", false},  {"startedAt", createdAt},
                      {"finishedAt", rfc3339Now()}, {"reason", "StartError"}, {"message", error}};
    writeFileAtomically(o_.bundle + "/exit", json::serialize(exit));
    sys::runProcess({o_.runcBinary, "--root", o_.runcRoot, "delete", "--force", o_.id});
    (void)!::write(notifyFd, "x", 1);
    return 1;
  }
  log_.open();
  // The attach socket, before the agent learns the container runs.
  std::string sock = attachSocketPath(o_.bundle);
  listenFd_ = listenUnix(sock, 16);
  ::pipe2(stopPipe_, O_CLOEXEC);
  std::thread acceptor;
  if (listenFd_ >= 0) acceptor = std::thread([this] { acceptLoop(); });
  // A TTY container's output is all on its terminal (stdout); runc's pipes then only carry
  // runc's own messages, which still go to the log as upstream's runtimes do.
  int outFd = master_ >= 0 ? ::fcntl(master_, F_DUPFD_CLOEXEC, 0) : outPipe_[0];
  if (master_ >= 0) ::close(outPipe_[0]);
  std::thread out([this, outFd] { pump(outFd, 1); });
  std::thread err([this] { pump(errPipe_[0], 2); });
  writeFileAtomically(o_.bundle + "/started",
                      json::serialize(json::object{{"pid", pid_}, {"startedAt", startedAt_}}));
  (void)!::write(notifyFd, "s", 1);
  ::close(notifyFd);

  // As subreaper the shim inherits the container's init (runc create exited); reap until it.
  int status = 0;
  for (;;) {
    pid_t p = ::waitpid(-1, &status, 0);
    if (p == pid_) break;
    if (p < 0 && errno != EINTR) break;
  }
  out.join();
  err.join();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  bool oom = cgroupOomKills() != "0";
  json::object exit{{"exitCode", code},      {"oomKilled", oom}, {"startedAt", startedAt_},
                    {"finishedAt", rfc3339Now()}, {"reason", ""},   {"message", ""}};
  writeFileAtomically(o_.bundle + "/exit", json::serialize(exit));
  std::string frame = std::to_string(code);
  broadcast(kAttachExited, frame.data(), frame.size());
  (void)!::write(stopPipe_[1], "x", 1);
  if (acceptor.joinable()) acceptor.join();
  ::unlink(sock.c_str());
  {
    std::lock_guard lock(mu_);
    for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
  }
  {
    std::lock_guard lock(inMu_);
    if (master_ >= 0) ::close(master_);
    master_ = -1;
  }
  sys::runProcess({o_.runcBinary, "--root", o_.runcRoot, "delete", "--force", o_.id});
  return 0;
}

}  // namespace

std::string rfc3339NanoNow() { return formatTime(true); }
std::string rfc3339Now() { return formatTime(false); }

std::optional<json::object> readJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string attachSocketPath(const std::string& bundle) { return bundle + "/attach.sock"; }

int runShim(const ShimOptions& options) {
  // The launcher waits on `notify` for "started" or "failed" and must not wait for more: the
  // shim daemonizes (new session, stdio to its log) and reports through the pipe.
  int notify[2];
  if (::pipe2(notify, O_CLOEXEC) != 0) return 1;
  pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid > 0) {
    ::close(notify[1]);
    char c = 0;
    ssize_t n = ::read(notify[0], &c, 1);
    return n == 1 && c == 's' ? 0 : 1;
  }
  ::close(notify[0]);
  ::setsid();
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int log = ::open((options.bundle + "/shim.log").c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ::dup2(devnull, 0);
  ::dup2(log >= 0 ? log : devnull, 1);
  ::dup2(log >= 0 ? log : devnull, 2);
  Shim shim(options);
  std::_Exit(shim.run(notify[1]));
}

core::Status launchShim(const std::string& berthBinary, const ShimOptions& o) {
  auto argv = shimCommand(berthBinary);
  auto args = shimArguments(o);
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = sys::runProcess(argv, {.timeout = std::chrono::seconds(60)});
  if (!r.ok()) return r.status();
  // Exit 1 with an `exit` file is a container that failed to start: a result, not an error.
  if (r->exitCode != 0 && !readExit(o.bundle))
    return core::Status::internal(sys::describeFailure(argv, *r));
  return {};
}

std::optional<ContainerStarted> readStarted(const std::string& bundle) {
  auto o = readJsonFile(bundle + "/started");
  if (!o) return std::nullopt;
  ContainerStarted s;
  if (auto* p = o->if_contains("pid"); p && p->is_int64()) s.pid = static_cast<int>(p->as_int64());
  if (auto* t = o->if_contains("startedAt"); t && t->is_string()) s.startedAt = t->as_string();
  return s;
}

std::optional<ContainerExit> readExit(const std::string& bundle) {
  auto o = readJsonFile(bundle + "/exit");
  if (!o) return std::nullopt;
  ContainerExit e;
  auto str = [&](const char* k) {
    auto* v = o->if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (auto* c = o->if_contains("exitCode"); c && c->is_int64())
    e.exitCode = static_cast<int>(c->as_int64());
  if (auto* b = o->if_contains("oomKilled"); b && b->is_bool()) e.oomKilled = b->as_bool();
  e.startedAt = str("startedAt");
  e.finishedAt = str("finishedAt");
  e.reason = str("reason");
  e.message = str("message");
  return e;
}

}  // namespace berth::kubelet::runtime
