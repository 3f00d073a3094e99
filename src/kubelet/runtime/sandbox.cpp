#include "kubelet/runtime/sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace berth::kubelet::runtime {

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

core::Status errnoStatus(const std::string& what) {
  return core::Status::internal(what + ": " + std::strerror(errno));
}

bool touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Brings the calling thread's network namespace's `lo` up, as the CNI loopback plugin's ADD
// does (the kernel gives it 127.0.0.1/8 and ::1 when it comes up). Only syscalls: it runs in
// the forked child between fork and _exit.
bool bringLoopbackUp() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  if (ok && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  }
  ::close(fd);
  return ok;
}

}  // namespace

PodNamespaces podNamespacePaths(const std::string& podDir) {
  return {podDir + "/ns/net", podDir + "/ns/ipc", podDir + "/ns/uts"};
}

bool isMountPoint(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountPoint;
    fields >> id >> parent >> dev >> root >> mountPoint;
    if (mountPoint == path) return true;
  }
  return false;
}

void unmountIfMounted(const std::string& path) {
  for (int i = 0; i < 4 && isMountPoint(path); ++i) {
    if (::umount2(path.c_str(), 0) != 0) ::umount2(path.c_str(), MNT_DETACH);
  }
}

bool namespacesPinned(const std::string& podDir) {
  auto p = podNamespacePaths(podDir);
  return isMountPoint(p.net) && isMountPoint(p.ipc) && isMountPoint(p.uts);
}

core::Status createPodNamespaces(const std::string& podDir, const std::string& hostname) {
  if (namespacesPinned(podDir)) return {};
  removePodNamespaces(podDir);
  auto paths = podNamespacePaths(podDir);
  std::error_code ec;
  fs::create_directories(podDir + "/ns", ec);
  if (ec) return core::Status::internal("create " + podDir + "/ns: " + ec.message());
  for (const auto* p : {&paths.net, &paths.ipc, &paths.uts})
    if (!touch(*p)) return errnoStatus("create " + *p);

  // A child unshares the namespaces and waits; the parent pins them from /proc/<child>/ns.
  // Between fork and _exit the child only makes async-signal-safe calls.
  // The parent releases the child with a byte, not by closing the pipe: a child forked at the
  // same time for another pod holds a copy of this pipe's write end (it never execs, so
  // O_CLOEXEC does not drop it), and waiting for EOF deadlocked two concurrent sandboxes.
  int ready[2], release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return errnoStatus("pipe");
  if (::pipe2(release, O_CLOEXEC) != 0) {
    ::close(ready[0]);
    ::close(ready[1]);
    return errnoStatus("pipe");
  }
  std::string host = hostname.substr(0, 63);
  pid_t pid = ::fork();
  if (pid < 0) return errnoStatus("fork");
  if (pid == 0) {
    ::close(release[1]);  // else the read below never sees EOF
    ::close(ready[0]);
    char ok = 1;
    if (::unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0 ||
        ::sethostname(host.data(), host.size()) != 0 || !bringLoopbackUp())
      ok = 0;
    (void)!::write(ready[1], &ok, 1);
    char c;
    while (::read(release[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char ok = 0;
  bool gotReady = ::read(ready[0], &ok, 1) == 1 && ok == 1;
  core::Status st;
  if (!gotReady) {
    st = core::Status::internal(
        "cannot create the pod's namespaces (unshare, sethostname or bringing lo up)");
  } else {
    const char* kinds[] = {"net", "ipc", "uts"};
    const std::string* targets[] = {&paths.net, &paths.ipc, &paths.uts};
    for (int i = 0; i < 3 && st.ok(); ++i) {
      std::string src = "/proc/" + std::to_string(pid) + "/ns/" + kinds[i];
      if (::mount(src.c_str(), targets[i]->c_str(), nullptr, MS_BIND, nullptr) != 0)
        st = errnoStatus("pin " + src + " on " + *targets[i]);
    }
  }
  char go = 1;
  (void)!::write(release[1], &go, 1);
  ::close(release[1]);
  ::close(ready[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!st.ok()) removePodNamespaces(podDir);
  return st;
}

core::Status repinPodNamespaces(const std::string& podDir, int pid) {
  removePodNamespaces(podDir);
  auto paths = podNamespacePaths(podDir);
  std::error_code ec;
  fs::create_directories(podDir + "/ns", ec);
  const char* kinds[] = {"net", "ipc", "uts"};
  const std::string* targets[] = {&paths.net, &paths.ipc, &paths.uts};
  for (int i = 0; i < 3; ++i) {
    std::string src = "/proc/" + std::to_string(pid) + "/ns/" + kinds[i];
    if (!touch(*targets[i]) ||
        ::mount(src.c_str(), targets[i]->c_str(), nullptr, MS_BIND, nullptr) != 0) {
      auto st = errnoStatus("pin " + src);
      removePodNamespaces(podDir);
      return st;
    }
  }
  return {};
}

void removePodNamespaces(const std::string& podDir) {
  auto p = podNamespacePaths(podDir);
  for (const auto* path : {&p.net, &p.ipc, &p.uts}) {
    unmountIfMounted(*path);
    ::unlink(path->c_str());
  }
  ::rmdir((podDir + "/ns").c_str());
}

std::string podCgroup(const std::string& podUid) { return "/berth/pod" + podUid; }

std::string containerCgroup(const std::string& podUid, const std::string& containerId) {
  return podCgroup(podUid) + "/" + containerId;
}

core::Status ensureCgroupMounts() {
  {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.find(" /sys/fs/cgroup/") != std::string::npos &&
          line.find(" - cgroup ") != std::string::npos)
        return {};  // already there
  }
  struct stat self{}, init{};
  // (PID 1's namespace may be unreadable from inside `ip netns exec`: then it is not ours.)
  if (::stat("/proc/self/ns/mnt", &self) == 0 && ::stat("/proc/1/ns/mnt", &init) == 0 &&
      self.st_ino == init.st_ino && self.st_dev == init.st_dev)
    return core::Status::internal("no cgroup v1 hierarchies under /sys/fs/cgroup");
  if (!isMountPoint(kCgroupRoot) &&
      ::mount("tmpfs", kCgroupRoot, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") != 0)
    return errnoStatus("mount tmpfs on /sys/fs/cgroup");
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    // "4:memory:/path", "9:name=systemd:/", "0::/" (cgroup2)
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string dir = controllers.empty() ? "unified" : controllers;
    if (dir.rfind("name=", 0) == 0) dir = dir.substr(5);
    std::string target = std::string(kCgroupRoot) + "/" + dir;
    ::mkdir(target.c_str(), 0755);
    int rc = controllers.empty()
                 ? ::mount("cgroup2", target.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           nullptr)
                 : ::mount("cgroup", target.c_str(), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           controllers.c_str());
    if (rc != 0 && !controllers.empty()) return errnoStatus("mount cgroup " + controllers);
  }
  return {};
}

const std::vector<std::string>& cgroupControllers() {
  static const std::vector<std::string> controllers = [] {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kCgroupRoot, ec)) {
      std::string name = e.path().filename();
      // Every hierarchy runc creates the container's cgroup in (the v1 ones and the hybrid
      // layout's cgroup2 "unified"); symlinks (cpu,cpuacct) are aliases.
      if (e.is_symlink() || !e.is_directory()) continue;
      out.push_back(name);
    }
    return out;
  }();
  return controllers;
}

namespace {

void killAndRemove(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) killAndRemove(e.path());
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;
    std::ifstream procs(dir / "cgroup.procs");
    int pid;
    while (procs >> pid) ::kill(pid, SIGKILL);
    ::usleep(20000);
  }
}

}  // namespace

void removeCgroup(const std::string& cgroup) {
  for (const auto& c : cgroupControllers())
    killAndRemove(fs::path(kCgroupRoot) / c / cgroup.substr(1));
}

}  // namespace berth::kubelet::runtime
