#include "kubelet/runtime/oci_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

#include "kubelet/runtime/oci_spec.h"
#include "kubelet/runtime/shim_args.h"
#include "sys/process.h"

namespace fs = std::filesystem;

extern char** environ;

namespace berth::kubelet::runtime {

namespace {

std::string besideBerth(const std::string& berthBinary, const std::string& name) {
  auto slash = berthBinary.rfind('/');
  if (slash == std::string::npos) return "";
  std::string path = berthBinary.substr(0, slash + 1) + name;
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

// A state root with containers in it (a directory per container, as both runtimes keep them).
bool holdsContainers(const std::string& root) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec)) return true;
  return false;
}

// Runs a runtime command with its output in `outFile`, not in pipes: `create` leaves the
// container's init holding the stdio it inherited until the container ends, so a reader of
// pipes would wait for that. An error says what the runtime printed.
core::Status ranOk(const std::vector<std::string>& argv, const std::string& outFile,
                   const char* step) {
  int out = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, out, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the container's init keeps only stdio
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in);
  ::close(out);
  if (rc != 0) return core::Status::internal("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  // Generous: on a saturated machine runc and crun alike take seconds per namespace set-up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return core::Status::timeout(std::string(step) + ": " + argv[0] + " did not finish in 30 s");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::ifstream printed(outFile);
  std::string text((std::istreambuf_iterator<char>(printed)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return core::Status::internal(std::string(step) + " failed" + (text.empty() ? "" : ": " + text));
}

// The probe's cgroup in every v1 hierarchy; normally gone with the container, but a killed
// init's exit may still be in flight (an exiting task keeps a v1 cgroup busy; tearing down its
// namespaces takes seconds on a saturated machine), and a timed-out `create` leaves its init.
void removeCgroup(const std::string& path) {
  for (int attempt = 0; attempt < 250; ++attempt) {
    std::ifstream procs("/sys/fs/cgroup/pids" + path + "/cgroup.procs");
    for (int pid = 0; procs >> pid;) ::kill(pid, SIGKILL);
    bool left = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      if (e.is_symlink(ec)) continue;  // cpu -> cpu,cpuacct
      std::string dir = e.path().string() + path;
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) left = true;
    }
    if (!left) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::atomic<int> probeCounter{0};

// `name` as an absolute path when it is found in PATH (else as given): every runtime call then
// execs it directly instead of trying each PATH entry first.
std::string resolveInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat sb {};
    if (::stat(candidate.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return name;
}

}  // namespace

int settableOomScoreAdj(int wanted, bool canLower, int own) {
  return canLower ? wanted : std::max(wanted, own);
}

int settableOomScoreAdj(int wanted) {
  static const std::pair<bool, int> self = [] {
    constexpr unsigned kCapSysResource = 24;
    bool canLower = false;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("CapEff:", 0) == 0)
        canLower = (std::stoull(line.substr(7), nullptr, 16) >> kCapSysResource) & 1;
    int own = 0;
    std::ifstream("/proc/self/oom_score_adj") >> own;
    return std::pair{canLower, own};
  }();
  return settableOomScoreAdj(wanted, self.first, self.second);
}

core::Status probeOciRuntime(const std::string& binary, const std::string& workDir,
                             const std::string& probeExe) {
  std::string tag = std::to_string(::getpid()) + "-" + std::to_string(probeCounter++);
  std::string dir = workDir + "/probe-" + tag;
  std::string root = dir + "/root", bundle = dir + "/bundle", id = "berth-probe-" + tag;
  std::error_code ec;
  fs::create_directories(bundle + "/rootfs", ec);
  fs::create_directories(root, ec);
  if (ec) return core::Status::internal("create " + dir + ": " + ec.message());
  ContainerConfig c;
  c.args = {"/probe", "--help"};
  c.rootfs = bundle + "/rootfs";
  c.readOnlyRootfs = true;
  c.cgroupsPath = "/" + id;
  c.hostNetwork = true;  // a network namespace costs the most to create and tear down
  c.resources.memoryLimitBytes = 64 << 20;
  c.mounts.push_back({"/probe", probeExe, "bind", true, {}});
  {
    std::ofstream out(bundle + "/config.json", std::ios::trunc);
    out << boost::json::serialize(buildOciSpec(c));
  }
  std::vector<std::string> base = {binary, "--root", root};
  auto with = [&](std::initializer_list<std::string> args) {
    auto argv = base;
    argv.insert(argv.end(), args);
    return argv;
  };
  std::string out = dir + "/output";
  auto st = ranOk(with({"create", "--bundle", bundle, id}), out, "create");
  if (st.ok()) {
    for (const char* controller : {"memory", "cpu"}) {
      std::string path = std::string("/sys/fs/cgroup/") + controller + c.cgroupsPath;
      struct stat sb {};
      if (::stat(path.c_str(), &sb) != 0) {
        st = core::Status::internal("the container's cgroup is not at " + path);
        break;
      }
    }
  }
  if (st.ok()) st = ranOk(with({"start", id}), out, "start");
  (void)ranOk(with({"delete", "--force", id}), out, "delete");
  removeCgroup(c.cgroupsPath);
  fs::remove_all(dir, ec);
  return st;
}

core::Result<OciRuntime> selectOciRuntime(const OciRuntimeChoice& o) {
  std::string why = "--container-runtime " + o.choice;
  OciRuntime runc{"runc", resolveInPath(o.runcBinary), why};
  if (o.choice == "runc") return runc;
  if (o.choice != "auto" && o.choice != "crun")
    return core::Status::badRequest("invalid --container-runtime \"" + o.choice +
                                    "\" (auto, runc or crun)");
  std::string wrapper = besideBerth(o.berthBinary, "berth-crun");
  auto shim = shimCommand(o.berthBinary);
  bool automatic = o.choice == "auto";
  // Sticky across restarts: running containers can only be stopped by the runtime that has them.
  if (automatic && holdsContainers(o.dataDir + "/runc")) {
    runc.reason = "auto: containers started by runc still run";
    return runc;
  }
  core::Status st;
  if (wrapper.empty()) {
    st = core::Status::internal("berth-crun (the crun wrapper) is not beside " + o.berthBinary);
  } else if (automatic && holdsContainers(o.dataDir + "/crun")) {
    return OciRuntime{"crun", wrapper, "auto: containers started by crun still run"};
  } else if (!automatic) {
    // As with runc, no probe: the node starts at once, and a host where crun cannot run shows
    // in the first container's StartError.
    return OciRuntime{"crun", wrapper, why};
  } else if (shim.size() != 1) {
    st = core::Status::internal("berth-shim (the probe's process) is not beside " + o.berthBinary);
  } else {
    st = probeOciRuntime(wrapper, o.dataDir, shim[0]);
  }
  if (st.ok()) return OciRuntime{"crun", wrapper, why + ": a probe container started"};
  if (!automatic) return core::Status::internal("crun cannot run containers here: " + st.message());
  runc.reason = "auto: crun cannot run containers here (" + st.message() + ")";
  return runc;
}

}  // namespace berth::kubelet::runtime
