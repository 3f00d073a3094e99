// bench/scheduler_throughput: pods bound per second by the scheduler against a real
// `berth server --datastore memory` (scheduler and controllers disabled in it), with N Node
// objects and M pending pods created through the API; once with plain pods and once with pods
// carrying a required anti-affinity (groups of 10 pods that must not share a node).
//
// The reference measured in the same run is the raw pod creation rate of the same server
// (the same client, threads and pods), so the report is a ratio: bound/s over created/s.
//
//   scheduler_throughput --berth build/berth [--nodes 5000] [--pods 50000] [--threads 16]
//                        [--anti-affinity-pods N (default: --pods)] [--only plain|anti]
//
// Starts and stops only its own server process (by PID), in a temporary directory.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "client/rest_client.h"
#include "scheduler/scheduler.h"

namespace json = boost::json;
using namespace berth;
using Clock = std::chrono::steady_clock;

namespace {

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNodes{"", "v1", "nodes", false};

struct Options {
  std::string berth;
  int nodes = 5000;
  int pods = 50000;
  int threads = 16;
  int antiPods = -1;  // pods in the anti-affinity run; -1 = --pods
  std::string only;   // "plain" or "anti": run just that workload (quicker iteration)
};

class ServerProcess {
 public:
  explicit ServerProcess(const std::string& berth) {
    char tmpl[] = "/tmp/berth-sched-bench-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string log = dir_ + "/server.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl(berth.c_str(), berth.c_str(), "server", "--data-dir", dir_.c_str(), "--datastore",
              "memory", "--bind-address", "127.0.0.1", "--secure-port", "0", "--disable-scheduler",
              "--disable-controllers", "--disable-agent", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
  }
  ~ServerProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<client::RestClient> connect() {
    for (int i = 0; i < 300; ++i) {
      auto cfg = client::loadKubeconfig(dir_ + "/admin.kubeconfig");
      if (cfg.ok()) {
        cfg->qps = 1e6;
        cfg->burst = 1000000;
        cfg->maxIdleConnections = 64;
        cfg->userAgent = "scheduler-throughput-bench";
        auto c = client::RestClient::create(*cfg);
        if (c.ok() && c.value()->get({"", "v1", "namespaces", false}, "", "default").ok())
          return std::move(c).value();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }
  client::RestConfig config() const {
    return client::loadKubeconfig(dir_ + "/admin.kubeconfig").value();
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// Runs make(i) for i in [0, n) on `threads` threads; returns seconds taken and counts failures.
template <class Fn>
double parallel(int n, int threads, Fn fn, int& failures) {
  std::atomic<int> next{0}, failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i; (i = next++) < n;)
        if (!fn(i)) ++failed;
    });
  }
  for (auto& t : ts) t.join();
  failures = failed;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

json::value node(int i) {
  json::object alloc{{"cpu", "64"}, {"memory", "256Gi"}, {"pods", "110"}};
  std::string name = "node-" + std::to_string(i);
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Node"},
                      {"metadata",
                       {{"name", name},
                        {"labels",
                         {{"kubernetes.io/hostname", name},
                          {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 10)}}}}},
                      {"status", {{"capacity", alloc}, {"allocatable", alloc}}}};
}

json::value pod(int i, bool antiAffinity) {
  std::string group = "g" + std::to_string(i / 10);
  json::object spec{
      {"containers", json::array{json::object{
                         {"name", "c"},
                         {"image", "busybox"},
                         {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}}}}}};
  if (antiAffinity) {
    spec["affinity"] = json::object{
        {"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array{json::object{{"labelSelector", {{"matchLabels", {{"group", group}}}}},
                                    {"topologyKey", "kubernetes.io/hostname"}}}}}}};
  }
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "pod-" + std::to_string(i)}, {"labels", {{"group", group}}}}},
      {"spec", std::move(spec)}};
}

struct Result {
  double createRate = 0, syncSeconds = 0, bindSeconds = 0;
  long long bound = 0;
};

bool run(const Options& o, bool antiAffinity, Result& r) {
  ServerProcess server(o.berth);
  auto c = server.connect();
  if (!c) {
    std::cerr << "server did not start\n";
    return false;
  }
  int failures = 0;
  double nodeSecs = parallel(
      o.nodes, o.threads, [&](int i) { return c->create(kNodes, "", node(i)).ok(); }, failures);
  std::cerr << "  " << o.nodes << " nodes in " << nodeSecs << " s (" << failures << " failed)\n";
  double podSecs = parallel(
      o.pods, o.threads,
      [&](int i) { return c->create(kPods, "default", pod(i, antiAffinity)).ok(); }, failures);
  r.createRate = o.pods / podSecs;
  std::cerr << "  " << o.pods << " pods created in " << podSecs << " s (" << failures
            << " failed)\n";

  scheduler::SchedulerOptions so;
  so.rest = server.config();
  so.leaderElect = false;
  auto t0 = Clock::now();
  scheduler::Scheduler sched(so);
  if (!sched.start().ok()) return false;
  auto t1 = Clock::now();  // caches synced
  r.syncSeconds = std::chrono::duration<double>(t1 - t0).count();
  long long last = -1;
  auto lastProgress = Clock::now();
  while (sched.boundCount() < o.pods) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (sched.boundCount() != last) {
      last = sched.boundCount();
      lastProgress = Clock::now();
    } else if (Clock::now() - lastProgress > std::chrono::seconds(30)) {
      std::cerr << "  no progress for 30 s at " << last << " bound\n";
      break;
    }
  }
  r.bindSeconds = std::chrono::duration<double>(Clock::now() - t1).count();
  r.bound = sched.boundCount();
  sched.stop();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--berth")
      o.berth = v;
    else if (k == "--nodes")
      o.nodes = std::stoi(v);
    else if (k == "--pods")
      o.pods = std::stoi(v);
    else if (k == "--threads")
      o.threads = std::stoi(v);
    else if (k == "--anti-affinity-pods")
      o.antiPods = std::stoi(v);
    else if (k == "--only")
      o.only = v;
  }
  if (o.berth.empty()) {
    std::cerr << "usage: scheduler_throughput --berth PATH [--nodes N] [--pods M] [--threads T]\n";
    return 2;
  }
  std::printf(
      "| workload | nodes | pods | created/s (reference) | bound/s | ratio | cache sync |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (bool anti : {false, true}) {
    if (!o.only.empty() && o.only != (anti ? "anti" : "plain")) continue;
    std::cerr << (anti ? "required anti-affinity:\n" : "plain pods:\n");
    Result r;
    Options run_ = o;
    if (anti && o.antiPods >= 0) run_.pods = o.antiPods;
    if (!run(run_, anti, r)) return 1;
    double bindRate = r.bound / r.bindSeconds;
    std::printf("| %s | %d | %d | %.0f | %.0f%s | %.2fx | %.1f s |\n",
                anti ? "required anti-affinity (groups of 10, hostname)" : "plain (10m CPU, 16Mi)",
                run_.nodes, run_.pods, r.createRate, bindRate,
                r.bound < run_.pods ? " (incomplete)" : "", bindRate / r.createRate, r.syncSeconds);
    std::fflush(stdout);
  }
  return 0;
}
