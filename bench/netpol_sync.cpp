// NetworkPolicy rule sync cost on one node (src/netpol): building the ruleset from N pods and P
// policies, rendering it, and applying it with the real nft in a scratch network namespace
// (needs root): a full table replacement, then one pod's label change as an element update.
//   netpol_sync [pods=10000] [policies=200]
#include <time.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "netpol/render.h"
#include "netpol/ruleset.h"
#include "sys/process.h"

namespace json = boost::json;
using namespace berth::netpol;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// This thread's CPU time: on a shared, loaded machine wall time says little.
double cpuMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

ClusterState makeState(int pods, int policies) {
  ClusterState s;
  const int namespaces = std::max(1, policies / 4);
  for (int n = 0; n < namespaces; ++n)
    s.namespaces["ns" + std::to_string(n)] = {{"team", "t" + std::to_string(n % 5)}};
  for (int i = 0; i < pods; ++i) {
    PodInfo p;
    p.ns = "ns" + std::to_string(i % namespaces);
    p.name = "pod" + std::to_string(i);
    p.ip = "10." + std::to_string(100 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
           std::to_string(i % 256);
    p.labels = {{"app", "app" + std::to_string(i % 20)}, {"tier", i % 2 ? "web" : "db"}};
    p.local = i % 10 == 0;  // one node of ten
    p.ports = {{"http", 8080, "TCP"}};
    s.pods.push_back(std::move(p));
  }
  for (int k = 0; k < policies; ++k) {
    std::string ns = "ns" + std::to_string(k % namespaces);
    std::string spec = R"({"podSelector":{"matchLabels":{"app":"app)" + std::to_string(k % 20) +
                       R"("}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"tier":"web"}}},
                       {"namespaceSelector":{"matchLabels":{"team":"t1"}}}],
                       "ports":[{"port":"http"},{"port":9000,"endPort":9100}]}],
                       "egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}]}]})";
    s.policies.push_back(
        json::object{{"metadata", {{"namespace", ns}, {"name", "p" + std::to_string(k)}}},
                     {"spec", json::parse(spec)}});
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = argc > 1 ? std::atoi(argv[1]) : 10000;
  int policies = argc > 2 ? std::atoi(argv[2]) : 200;
  auto state = makeState(pods, policies);

  auto t = Clock::now();
  double c = cpuMs();
  auto rs = buildRuleset(state);
  double build = msSince(t), buildCpu = cpuMs() - c;
  t = Clock::now();
  auto full = fullScript(rs);
  double render = msSince(t);
  size_t elements = 0;
  for (const auto& s : rs.sets) elements += s.elements.size();
  std::printf("pods=%d policies=%d: %zu sets, %zu elements, %zu+%zu rules, script %zu KiB\n", pods,
              policies, rs.sets.size(), elements, rs.ingress.size(), rs.egress.size(),
              full.size() / 1024);
  std::printf("build ruleset %.1f ms (cpu %.1f ms), render full script %.1f ms\n", build, buildCpu,
              render);

  // One pod changes labels: rebuild, diff.
  state.pods[2].labels["tier"] = "web";  // was db
  t = Clock::now();
  c = cpuMs();
  auto next = buildRuleset(state);
  bool same = rs.sameStructure(next);
  auto delta = elementScript(rs, next);
  double diff = msSince(t), diffCpu = cpuMs() - c;
  std::printf(
      "one pod relabelled: rebuild + diff %.1f ms (cpu %.1f ms; structure same: %s), "
      "script:\n%s",
      diff, diffCpu, same ? "yes" : "no", delta.c_str());

  if (::geteuid() != 0) return 0;
  std::string ns = "berth-npbench-" + std::to_string(std::random_device{}() % 100000);
  if (std::system(("ip netns add " + ns).c_str()) != 0) return 1;
  auto nft = [&](const std::string& script) {
    auto start = Clock::now();
    auto r = berth::sys::runProcess({"ip", "netns", "exec", ns, "nft", "-f", "-"},
                                    {.stdinData = script});
    double ms = msSince(start);
    if (!r.ok() || r->exitCode != 0) std::printf("nft failed: %s\n", r.ok() ? r->err.c_str() : "");
    return ms;
  };
  std::printf("nft full replacement (empty namespace) %.1f ms\n", nft(full));
  std::printf("nft full replacement (over the same)   %.1f ms\n", nft(full));
  std::printf("nft element update                     %.1f ms\n", nft(delta));
  std::system(("ip netns del " + ns).c_str());
  return 0;
}
