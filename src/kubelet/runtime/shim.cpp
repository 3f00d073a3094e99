#include "kubelet/runtime/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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
#include "kubelet/runtime/process.h"

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

bool readAll(int fd, char* data, size_t len) {
  while (len > 0) {
    ssize_t r = ::read(fd, data, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    len -= static_cast<size_t>(r);
  }
  return true;
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
  std::string cgroupOomKills();

  const ShimOptions& o_;
  int outPipe_[2] = {-1, -1}, errPipe_[2] = {-1, -1}, inPipe_[2] = {-1, -1};
  int pid_ = 0;
  std::string startedAt_;
  std::mutex mu_;  // guards log_, clients_, inPipe_[1]
  logs::CriLogWriter log_;
  std::vector<int> clients_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
};

bool Shim::createAndStart(std::string& error) {
  if (::pipe2(outPipe_, O_CLOEXEC) != 0 || ::pipe2(errPipe_, O_CLOEXEC) != 0) return false;
  if (o_.stdinOpen && ::pipe2(inPipe_, O_CLOEXEC) != 0) return false;
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::string pidFile = o_.bundle + "/init.pid";
  std::string runcLog = o_.bundle + "/runc.log";
  std::vector<std::string> argv = {o_.runcBinary, "--root", o_.runcRoot, "--log", runcLog,
                                   "create", "--bundle", o_.bundle, "--pid-file", pidFile, o_.id};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, o_.stdinOpen ? inPipe_[0] : devnull, 0);
  posix_spawn_file_actions_adddup2(&actions, outPipe_[1], 1);
  posix_spawn_file_actions_adddup2(&actions, errPipe_[1], 2);
  pid_t runc = 0;
  int rc = ::posix_spawnp(&runc, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(devnull);
  ::close(outPipe_[1]);
  ::close(errPipe_[1]);
  if (o_.stdinOpen) ::close(inPipe_[0]);
  if (rc != 0) {
    error = std::string("cannot run runc: ") + std::strerror(rc);
    return false;
  }
  int status = 0;
  while (::waitpid(runc, &status, 0) < 0 && errno == EINTR) {
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
  auto started = runProcess({o_.runcBinary, "--root", o_.runcRoot, "start", o_.id});
  if (!started.ok() || started->exitCode != 0) {
    error = started.ok() ? describeFailure({"runc", "start"}, *started) : started.status().message();
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
  unsigned char head[5] = {static_cast<unsigned char>(stream),
                           static_cast<unsigned char>(len >> 24), static_cast<unsigned char>(len >> 16),
                           static_cast<unsigned char>(len >> 8), static_cast<unsigned char>(len)};
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (writeAll(*it, reinterpret_cast<char*>(head), 5) && writeAll(*it, data, len)) {
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
      logLine(name, std::string_view(pending).substr(start, nl - start), false);
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

void Shim::serveClient(int fd) {
  for (;;) {
    unsigned char head[5];
    if (!readAll(fd, reinterpret_cast<char*>(head), 5)) break;
    size_t len = (size_t(head[1]) << 24) | (size_t(head[2]) << 16) | (size_t(head[3]) << 8) | head[4];
    if (len > (1u << 20)) break;
    std::string payload(len, '\0');
    if (len && !readAll(fd, payload.data(), len)) break;
    std::lock_guard lock(mu_);
    if (head[0] == 0 && inPipe_[1] >= 0) {
      writeAll(inPipe_[1], payload.data(), payload.size());
    } else if (head[0] == 4 && inPipe_[1] >= 0) {
      ::close(inPipe_[1]);
      inPipe_[1] = -1;
    }
    // Stream 3 (resize) has no effect: shim containers have no terminal.
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
    runProcess({o_.runcBinary, "--root", o_.runcRoot, "delete", "--force", o_.id});
    (void)!::write(notifyFd, "x", 1);
    return 1;
  }
  log_.open();
  // The attach socket, before the agent learns the container runs.
  std::string sock = attachSocketPath(o_.bundle);
  ::unlink(sock.c_str());
  listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 16) != 0) {
    ::close(listenFd_);
    listenFd_ = -1;
  }
  ::pipe2(stopPipe_, O_CLOEXEC);
  std::thread acceptor;
  if (listenFd_ >= 0) acceptor = std::thread([this] { acceptLoop(); });
  std::thread out([this] { pump(outPipe_[0], 1); });
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
  broadcast(5, frame.data(), frame.size());
  (void)!::write(stopPipe_[1], "x", 1);
  if (acceptor.joinable()) acceptor.join();
  ::unlink(sock.c_str());
  {
    std::lock_guard lock(mu_);
    for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
  }
  runProcess({o_.runcBinary, "--root", o_.runcRoot, "delete", "--force", o_.id});
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
  std::vector<std::string> argv = {berthBinary, "shim",         "--id",     o.id,
                                   "--root",    o.runcRoot,     "--runc",   o.runcBinary,
                                   "--bundle",  o.bundle,       "--log",    o.logPath,
                                   "--cgroup",  o.cgroup,
                                   "--log-max-size", std::to_string(o.logMaxSize),
                                   "--log-max-files", std::to_string(o.logMaxFiles)};
  if (o.stdinOpen) argv.push_back("--stdin");
  auto r = runProcess(argv, {.timeout = std::chrono::seconds(60)});
  if (!r.ok()) return r.status();
  // Exit 1 with an `exit` file is a container that failed to start: a result, not an error.
  if (r->exitCode != 0 && !readExit(o.bundle))
    return core::Status::internal(describeFailure(argv, *r));
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
