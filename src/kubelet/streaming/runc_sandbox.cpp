#include "kubelet/streaming/runc_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "kubelet/streaming/cri_log.h"
#include "kubelet/streaming/stdio_targets.h"

namespace berth::kubelet::streaming {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

pid_t spawn(const std::vector<std::string>& args, int in = -1, int out = -1, int err = -1) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(in >= 0 ? in : devnull, 0);
    ::dup2(out >= 0 ? out : devnull, 1);
    ::dup2(err >= 0 ? err : devnull, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int run(const std::vector<std::string>& args) {
  pid_t pid = spawn(args);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string randomSuffix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", rd());
  return buf;
}

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void makeRootfs(const std::string& dir) {
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc", "www"})
    fs::create_directories(dir + "/" + d);
  fs::copy_file("/bin/busybox", dir + "/bin/busybox", fs::copy_options::overwrite_existing);
  for (const char* applet :
       {"sh",  "echo", "cat",   "sleep", "ls",     "httpd", "nc",   "wc", "head", "tr",  "touch",
        "seq", "true", "false", "env",   "printf", "stty",  "test", "[",  "kill", "tty", "rm"}) {
    std::error_code ec;
    fs::create_symlink("busybox", dir + "/bin/" + applet, ec);
  }
  std::ofstream(dir + "/www/index.html") << "hello from the pod\n";
}

std::string configJson(const std::string& command, const std::string& netns,
                       const std::string& cgroup) {
  json::object process{{"terminal", false},
                       {"user", json::object{{"uid", 0}, {"gid", 0}}},
                       {"args", json::array{"/bin/sh", "-c", command}},
                       {"env", json::array{"PATH=/bin", "HOME=/", "TERM=xterm"}},
                       {"cwd", "/"}};
  json::array mounts{
      json::object{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      json::object{{"destination", "/dev"},
                   {"type", "tmpfs"},
                   {"source", "tmpfs"},
                   {"options", json::array{"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      json::object{{"destination", "/dev/pts"},
                   {"type", "devpts"},
                   {"source", "devpts"},
                   {"options",
                    json::array{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
      json::object{{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}}};
  json::array namespaces{json::object{{"type", "pid"}}, json::object{{"type", "ipc"}},
                         json::object{{"type", "uts"}}, json::object{{"type", "mount"}},
                         json::object{{"type", "network"}, {"path", netns}}};
  json::object config{{"ociVersion", "1.0.2"},
                      {"process", process},
                      {"root", json::object{{"path", "rootfs"}, {"readonly", false}}},
                      {"hostname", "pod"},
                      {"mounts", mounts},
                      {"linux", json::object{{"namespaces", namespaces}, {"cgroupsPath", cgroup}}}};
  return json::serialize(config);
}

}  // namespace

// One container: its pipes, log writer, attach socket and restarts.
struct Container {
  std::string ns, pod, uid, name, id, bundle, logDir, attachPath;
  SandboxContainer spec;
  std::mutex mu;  // guards the fields below
  std::condition_variable changed;
  int pid = 0;      // the container's init, 0 when not running
  int runcPid = 0;  // the foreground `runc run`
  int runs = 0;     // starts so far
  int exits = 0;
  std::string logPath, previousLogPath;
  std::vector<int> attached;  // attach clients
  int stdinFd = -1;
  int listenFd = -1;
  std::thread reader, acceptor;
};

struct RuncSandbox::Impl {
  std::string workDir, runc, runtimeRoot, logsDir;
  std::string cgroupParent;  // "/berth-test-<random>": removed with the sandbox
  std::mutex mu;
  std::map<std::string, std::string> netns;  // ns/pod → netns name
  std::vector<std::unique_ptr<Container>> containers;
  std::atomic<bool> stopping{false};

  core::Status start(Container& c) {
    std::unique_lock lock(c.mu);
    int out[2], err[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
      return core::Status::internal("pipe failed");
    if (!c.logPath.empty()) c.previousLogPath = c.logPath;
    c.logPath = c.logDir + "/" + std::to_string(c.runs) + ".log";
    ++c.runs;
    run({runc, "--root", runtimeRoot, "delete", "--force", c.id});
    std::string pidFile = c.bundle + "/pid";
    std::error_code ec;
    fs::remove(pidFile, ec);
    // `runc run` in the foreground: its exit status is the container's, and it is the child
    // subreaper of what `runc exec` leaves behind, so nothing ends up with us to reap.
    pid_t runcPid = spawn(
        {runc, "--root", runtimeRoot, "run", "--pid-file", pidFile, "--bundle", c.bundle, c.id},
        in[0], out[1], err[1]);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    c.pid = 0;
    for (int i = 0; i < 200 && runcPid > 0 && c.pid == 0; ++i) {
      std::ifstream(pidFile) >> c.pid;
      if (c.pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (c.pid == 0) {
      if (runcPid > 0) ::kill(runcPid, SIGKILL), ::waitpid(runcPid, nullptr, 0);
      ::close(in[1]);
      ::close(out[0]);
      ::close(err[0]);
      return core::Status::internal("runc run " + c.id + " did not start the container");
    }
    c.runcPid = runcPid;
    if (c.stdinFd >= 0) ::close(c.stdinFd);
    c.stdinFd = in[1];
    if (!c.spec.stdinOpen) {
      ::close(c.stdinFd);
      c.stdinFd = -1;
    }
    if (c.reader.joinable()) c.reader.detach();  // the previous run's reader has ended
    c.reader = std::thread([this, &c, o = out[0], e = err[0]] { readOutput(c, o, e); });
    return {};
  }

  void broadcast(Container& c, uint8_t stream, std::string_view data) {
    std::string frame = attachFrame(stream, data);
    for (int fd : c.attached) ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void readOutput(Container& c, int out, int err) {
    std::ofstream log;
    {
      std::lock_guard lock(c.mu);
      log.open(c.logPath, std::ios::app);
    }
    std::vector<pollfd> fds = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buf[8192];
        ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          continue;
        }
        std::string_view data(buf, static_cast<size_t>(n));
        const char* stream = i == 0 ? "stdout" : "stderr";
        int64_t now = nowNanos();
        while (!data.empty()) {
          size_t nl = data.find('\n');
          bool partial = nl == std::string_view::npos;
          std::string_view line = data.substr(0, partial ? data.size() : nl);
          log << formatCriLogLine(now, stream, partial, line);
          data.remove_prefix(partial ? data.size() : nl + 1);
        }
        log.flush();
        std::lock_guard lock(c.mu);
        broadcast(c, static_cast<uint8_t>(i + 1), std::string_view(buf, static_cast<size_t>(n)));
      }
    }
    int status = 0;
    int pid;
    {
      std::lock_guard lock(c.mu);
      pid = c.runcPid;
    }
    if (pid > 0) ::waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    bool again;
    {
      std::lock_guard lock(c.mu);
      c.pid = 0;
      ++c.exits;
      broadcast(c, 5, std::to_string(code));
      for (int fd : c.attached) ::close(fd);
      c.attached.clear();
      again = c.spec.restartOnce && c.runs == 1 && !stopping;
      c.changed.notify_all();
    }
    if (again) (void)start(c);
  }

  void acceptAttach(Container& c) {
    while (!stopping) {
      int fd = ::accept4(c.listenFd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(c.mu);
      c.attached.push_back(fd);
      // Input from this client: stdin frames to the container's stdin.
      std::thread([&c, fd] {
        std::string buffer;
        char buf[4096];
        for (;;) {
          ssize_t n = ::read(fd, buf, sizeof(buf));
          if (n <= 0) return;
          buffer.append(buf, static_cast<size_t>(n));
          while (buffer.size() >= 5) {
            uint32_t len = (uint32_t{static_cast<uint8_t>(buffer[1])} << 24) |
                           (uint32_t{static_cast<uint8_t>(buffer[2])} << 16) |
                           (uint32_t{static_cast<uint8_t>(buffer[3])} << 8) |
                           static_cast<uint8_t>(buffer[4]);
            if (buffer.size() < 5 + size_t{len}) break;
            std::lock_guard lock(c.mu);
            if (buffer[0] == 0 && c.stdinFd >= 0) {
              (void)!::write(c.stdinFd, buffer.data() + 5, len);
            } else if (buffer[0] == 4 && c.stdinFd >= 0) {
              ::close(c.stdinFd);
              c.stdinFd = -1;
            }
            buffer.erase(0, 5 + size_t{len});
          }
        }
      }).detach();
    }
  }
};

RuncSandbox::RuncSandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

core::Result<std::unique_ptr<RuncSandbox>> RuncSandbox::create(const std::string& workDir,
                                                               const std::string& runc) {
  auto impl = std::make_unique<Impl>();
  impl->workDir = workDir;
  impl->runc = runc;
  impl->runtimeRoot = workDir + "/runc";
  impl->logsDir = workDir + "/logs";
  impl->cgroupParent = "/berth-test-" + randomSuffix();
  std::error_code ec;
  fs::create_directories(impl->runtimeRoot, ec);
  fs::create_directories(impl->logsDir, ec);
  if (ec) return core::Status::internal("cannot create " + workDir + ": " + ec.message());
  return std::unique_ptr<RuncSandbox>(new RuncSandbox(std::move(impl)));
}

RuncSandbox::~RuncSandbox() {
  impl_->stopping = true;
  for (auto& c : impl_->containers) {
    run({impl_->runc, "--root", impl_->runtimeRoot, "kill", c->id, "KILL"});
    if (c->listenFd >= 0) ::shutdown(c->listenFd, SHUT_RDWR);
  }
  for (auto& c : impl_->containers) {
    {
      std::unique_lock lock(c->mu);
      c->changed.wait_for(lock, std::chrono::seconds(5), [&] { return c->pid == 0; });
    }
    if (c->reader.joinable()) c->reader.join();
    if (c->acceptor.joinable()) c->acceptor.join();
    run({impl_->runc, "--root", impl_->runtimeRoot, "delete", "--force", c->id});
    std::lock_guard lock(c->mu);
    if (c->listenFd >= 0) ::close(c->listenFd);
    if (c->stdinFd >= 0) ::close(c->stdinFd);
    for (int fd : c->attached) ::close(fd);
  }
  std::error_code ec;
  for (auto& [key, name] : impl_->netns) run({"ip", "netns", "delete", name});
  // runc removes each container's cgroups; the parent it created in every hierarchy is ours.
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec))
    ::rmdir((hierarchy.path().string() + impl_->cgroupParent).c_str());
  fs::remove_all(impl_->workDir, ec);
}

const std::string& RuncSandbox::runtimeRoot() const { return impl_->runtimeRoot; }

core::Status RuncSandbox::addPod(const std::string& ns, const std::string& pod,
                                 const std::vector<SandboxContainer>& containers) {
  std::string netnsName = "berth-test-" + randomSuffix();
  if (run({"ip", "netns", "add", netnsName}) != 0)
    return core::Status::internal("ip netns add " + netnsName + " failed");
  {
    std::lock_guard lock(impl_->mu);
    impl_->netns[ns + "/" + pod] = netnsName;
  }
  run({"ip", "netns", "exec", netnsName, "ip", "link", "set", "lo", "up"});
  std::string uid = "uid-" + randomSuffix();
  for (const auto& spec : containers) {
    auto c = std::make_unique<Container>();
    c->ns = ns;
    c->pod = pod;
    c->uid = uid;
    c->name = spec.name;
    c->spec = spec;
    c->id = "berth-test-" + randomSuffix();
    c->bundle = impl_->workDir + "/bundles/" + c->id;
    c->logDir = impl_->logsDir + "/" + ns + "_" + pod + "_" + uid + "/" + spec.name;
    c->attachPath = impl_->workDir + "/" + c->id + ".attach";
    std::error_code ec;
    fs::create_directories(c->logDir, ec);
    fs::create_directories(c->bundle, ec);
    makeRootfs(c->bundle + "/rootfs");
    std::ofstream(c->bundle + "/config.json") << configJson(
        spec.shellCommand, "/run/netns/" + netnsName, impl_->cgroupParent + "/" + c->id);
    c->listenFd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, c->attachPath.c_str(),
                std::min(c->attachPath.size() + 1, sizeof(addr.sun_path) - 1));
    if (::bind(c->listenFd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(c->listenFd, 16) != 0)
      return core::Status::internal("cannot listen on " + c->attachPath);
    Container& ref = *c;
    {
      std::lock_guard lock(impl_->mu);
      impl_->containers.push_back(std::move(c));
    }
    if (auto st = impl_->start(ref); !st.ok()) return st;
    ref.acceptor = std::thread([this, &ref] { impl_->acceptAttach(ref); });
  }
  return {};
}

bool RuncSandbox::waitForExits(const std::string& ns, const std::string& pod,
                               const std::string& container, int runs, int timeoutMs) {
  Container* found = nullptr;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->containers)
      if (c->ns == ns && c->pod == pod && c->name == container) found = c.get();
  }
  if (found == nullptr) return false;
  std::unique_lock lock(found->mu);
  return found->changed.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                                 [&] { return found->exits >= runs; });
}

std::optional<ContainerInfo> RuncSandbox::find(const std::string& ns, const std::string& pod,
                                               const std::string& container) {
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->containers) {
    if (c->ns != ns || c->pod != pod || (!container.empty() && c->name != container)) continue;
    std::lock_guard clock(c->mu);
    ContainerInfo info;
    info.runtimeRoot = impl_->runtimeRoot;
    info.containerId = c->id;
    info.pid = c->pid;
    info.netnsPath = "/run/netns/" + impl_->netns[ns + "/" + pod];
    info.logPath = c->logPath;
    info.previousLogPath = c->previousLogPath;
    info.stdinOpen = c->spec.stdinOpen;
    info.attachSocket = c->attachPath;
    return info;
  }
  return std::nullopt;
}

std::optional<std::string> RuncSandbox::podNetns(const std::string& ns, const std::string& pod) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->netns.find(ns + "/" + pod);
  if (it == impl_->netns.end()) return std::nullopt;
  return "/run/netns/" + it->second;
}

}  // namespace berth::kubelet::streaming
