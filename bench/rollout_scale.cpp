// bench/rollout_scale: the measuring half of bench/rollout_scale.sh (which starts the server and
// `berth simulate`). Two modes against a running server:
//
//   rollout_scale create-rate --kubeconfig K --count N [--threads 16] [--namespace NS]
//     The reference: N pod creates from one client with `threads` concurrent requests (the
//     ReplicaSet controller's own create concurrency), pods as the Deployment's template but
//     already bound to a node that does not exist, so neither the scheduler nor a kubelet acts
//     on them. Prints "created N in S s: R/s".
//
//   rollout_scale rollout --kubeconfig K --replicas N [--namespace NS] [--timeout 600]
//     Creates a Deployment of N replicas and follows its pods with one watch: when each pod was
//     first seen (created by the ReplicaSet controller), bound (spec.nodeName set by the
//     scheduler) and Running (status from the simulated kubelet); and polls the Deployment
//     until it reports N ready, available and updated replicas. Prints a Markdown table of the
//     stages: time of the 1st, 50% and 100% pod, and pods/s over the whole stage.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/rest_client.h"

namespace json = boost::json;
using namespace berth;
using Clock = std::chrono::steady_clock;

namespace {

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNamespaces{"", "v1", "namespaces", false};
const client::Resource kDeployments{"apps", "v1", "deployments", true};

struct Options {
  std::string mode, kubeconfig, ns = "rollout";
  int count = 10000, threads = 16, timeout = 600;
};

std::unique_ptr<client::RestClient> connect(const Options& o) {
  auto cfg = client::loadKubeconfig(o.kubeconfig);
  if (!cfg.ok()) {
    std::cerr << cfg.status().message() << "\n";
    return nullptr;
  }
  cfg->qps = 1e6;
  cfg->burst = 1000000;
  cfg->maxIdleConnections = o.threads + 4;
  cfg->userAgent = "rollout-scale-bench";
  auto c = client::RestClient::create(*cfg);
  if (!c.ok()) return nullptr;
  return std::move(c).value();
}

void ensureNamespace(client::RestClient& c, const std::string& ns) {
  (void)c.create(
      kNamespaces, "",
      json::object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
}

json::object podSpec() {
  return json::object{
      {"containers", json::array{json::object{
                         {"name", "c"},
                         {"image", "busybox"},
                         {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}}}}}};
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int createRate(const Options& o) {
  auto c = connect(o);
  if (!c) return 1;
  ensureNamespace(*c, o.ns);
  json::object spec = podSpec();
  spec["nodeName"] = "reference-no-such-node";
  std::atomic<int> next{0}, failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < o.threads; ++t) {
    ts.emplace_back([&] {
      for (int i; (i = next++) < o.count;) {
        json::object pod{
            {"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", "ref-" + std::to_string(i)}, {"labels", {{"app", "reference"}}}}},
            {"spec", spec}};
        if (!c->create(kPods, o.ns, pod).ok()) ++failed;
      }
    });
  }
  for (auto& t : ts) t.join();
  double s = seconds(t0, Clock::now());
  std::printf("created %d in %.2f s: %.0f/s (%d failed)\n", o.count - failed.load(), s,
              (o.count - failed) / s, failed.load());
  return failed == 0 ? 0 : 1;
}

// When each pod reached each stage (seconds after the Deployment's create).
struct PodTimes {
  double created = -1, bound = -1, running = -1;
};

class PodTracker {
 public:
  explicit PodTracker(Clock::time_point t0) : t0_(t0) {}
  void observe(const json::value& pod) {
    if (!pod.is_object()) return;
    const auto& o = pod.as_object();
    const json::value* uid = nullptr;
    if (auto* m = o.if_contains("metadata"); m && m->is_object())
      uid = m->as_object().if_contains("uid");
    if (!uid || !uid->is_string()) return;
    double now = seconds(t0_, Clock::now());
    std::lock_guard lock(mu_);
    PodTimes& t = pods_[std::string(uid->as_string())];
    if (t.created < 0) t.created = now;
    auto* spec = o.if_contains("spec");
    if (t.bound < 0 && spec && spec->is_object()) {
      if (auto* n = spec->as_object().if_contains("nodeName");
          n && n->is_string() && !n->as_string().empty())
        t.bound = now;
    }
    auto* st = o.if_contains("status");
    if (t.running < 0 && st && st->is_object()) {
      if (auto* p = st->as_object().if_contains("phase");
          p && p->is_string() && p->as_string() == "Running")
        t.running = now;
    }
  }
  // Sorted times of one stage (pods that have not reached it are left out).
  std::vector<double> stage(double PodTimes::*field) const {
    std::lock_guard lock(mu_);
    std::vector<double> v;
    for (const auto& [uid, t] : pods_)
      if (t.*field >= 0) v.push_back(t.*field);
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  Clock::time_point t0_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, PodTimes> pods_;
};

long long statusInt(const json::value& d, const char* field) {
  if (!d.is_object()) return 0;
  auto* st = d.as_object().if_contains("status");
  if (!st || !st->is_object()) return 0;
  auto* v = st->as_object().if_contains(field);
  return v && v->is_int64() ? v->as_int64() : 0;
}

int rollout(const Options& o) {
  auto c = connect(o);
  if (!c) return 1;
  ensureNamespace(*c, o.ns);
  auto list = c->list(kPods, o.ns);
  if (!list.ok()) {
    std::cerr << "list: " << list.status().message() << "\n";
    return 1;
  }
  client::ListOptions wo;
  wo.resourceVersion = std::string(list->at("metadata").at("resourceVersion").as_string());
  wo.timeoutSeconds = o.timeout + 60;
  auto watch = c->watch(kPods, o.ns, wo);
  if (!watch.ok()) {
    std::cerr << "watch: " << watch.status().message() << "\n";
    return 1;
  }
  json::object labels{{"app", "rollout"}};
  json::object deployment{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "rollout"}, {"labels", labels}}},
      {"spec",
       {{"replicas", o.count},
        {"selector", {{"matchLabels", labels}}},
        {"template", {{"metadata", {{"labels", labels}}}, {"spec", podSpec()}}}}}};
  auto t0 = Clock::now();
  PodTracker tracker(t0);
  std::thread watcher([&] {
    (*watch)->run([&](client::WatchEvent&& ev) {
      if (ev.type == "ADDED" || ev.type == "MODIFIED") tracker.observe(ev.object);
      return true;
    });
  });
  if (auto r = c->create(kDeployments, o.ns, deployment); !r.ok()) {
    std::cerr << "create deployment: " << r.status().message() << "\n";
    (*watch)->stop();
    watcher.join();
    return 1;
  }
  double available = -1;
  long long lastAvail = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    double now = seconds(t0, Clock::now());
    auto d = c->get(kDeployments, o.ns, "rollout");
    if (d.ok()) {
      lastAvail = statusInt(*d, "availableReplicas");
      if (available < 0 && lastAvail == o.count && statusInt(*d, "readyReplicas") == o.count &&
          statusInt(*d, "updatedReplicas") == o.count)
        available = now;
    }
    if (available >= 0 && tracker.stage(&PodTimes::running).size() >= size_t(o.count)) break;
    if (now > o.timeout) {
      std::cerr << "timeout after " << o.timeout << " s\n";
      break;
    }
  }
  (*watch)->stop();
  watcher.join();

  std::printf("| stage | pods | 1st pod | 50%% | 100%% | pods/s (all / t100%%) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const char* names[] = {"created (ReplicaSet controller)", "bound (scheduler)",
                         "Running (simulated kubelet)"};
  double PodTimes::*fields[] = {&PodTimes::created, &PodTimes::bound, &PodTimes::running};
  for (int i = 0; i < 3; ++i) {
    auto v = tracker.stage(fields[i]);
    if (v.empty()) {
      std::printf("| %s | 0 | – | – | – | – |\n", names[i]);
      continue;
    }
    double half = v[std::min(v.size() - 1, size_t(o.count) / 2)];
    std::printf("| %s | %zu | %.2f s | %.2f s | %.2f s | %.0f |\n", names[i], v.size(), v.front(),
                half, v.back(), v.size() / v.back());
  }
  if (available >= 0)
    std::printf("\nDeployment available (%d/%d ready, available, updated): **%.2f s**\n", o.count,
                o.count, available);
  else
    std::printf("\nDeployment NOT available within %d s (%lld available)\n", o.timeout, lastAvail);
  return available >= 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc > 1) o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--kubeconfig")
      o.kubeconfig = v;
    else if (k == "--count" || k == "--replicas")
      o.count = std::stoi(v);
    else if (k == "--threads")
      o.threads = std::stoi(v);
    else if (k == "--namespace")
      o.ns = v;
    else if (k == "--timeout")
      o.timeout = std::stoi(v);
  }
  if (o.kubeconfig.empty() || (o.mode != "create-rate" && o.mode != "rollout")) {
    std::cerr << "usage: rollout_scale create-rate|rollout --kubeconfig K [--count N] "
                 "[--threads T] [--namespace NS] [--timeout S]\n";
    return 2;
  }
  return o.mode == "create-rate" ? createRate(o) : rollout(o);
}
