// PodManager's part in a graceful node shutdown (node_shutdown.h): the kill of one pod with the
// shutdown's grace period and its final status. Runs after the agent stopped its pod workers,
// so no sync() of the same pod runs concurrently.
#include <signal.h>

#include <boost/json.hpp>

#include <iostream>
#include <thread>

#include "kubelet/node_shutdown.h"
#include "kubelet/pod_manager.h"
#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

const client::Resource kPods{"", "v1", "pods", true};

bool running(const PodManager::ContainerRecord& c) {
  return c.current && c.current->started && !c.current->exit;
}

}  // namespace

void PodManager::killForNodeShutdown(const json::object& pod, int64_t graceSeconds) {
  const auto* meta = obj(pod, "metadata");
  std::string ns = meta ? str(*meta, "namespace") : "", name = meta ? str(*meta, "name") : "";
  // By name, not uid: a static pod's record has the static pod's uid, the API its mirror's.
  std::shared_ptr<PodRecord> rec;
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, r] : records_)
      if (r->ns == ns && r->name == name) rec = r;
  }
  const json::object empty;
  json::object status = obj(pod, "status") ? *obj(pod, "status") : empty;
  if (rec) {
    if (rec->pod.empty()) rec->pod = pod;
    for (auto& [n, c] : rec->containers) refresh(c);
    std::vector<std::thread> stops;
    for (auto& [n, c] : rec->containers)
      if (running(c))
        stops.emplace_back([this, &rec, &c = c, graceSeconds] {
          stopContainer(*rec, c, graceSeconds, "Stopping container " + c.name);
        });
    for (auto& t : stops) t.join();
    // SIGKILL at each container's deadline; give up waiting 10 s after it (a process stuck in
    // the kernel), so the shutdown itself stays bounded.
    auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(graceSeconds + 10);
    while (std::chrono::steady_clock::now() < giveUp) {
      auto now = std::chrono::steady_clock::now();
      for (auto& [n, c] : rec->containers) {
        refresh(c);
        if (running(c) && !c.current->killSent && now >= c.current->killDeadline) {
          (void)runc_.kill(c.current->id, SIGKILL, true);
          c.current->killSent = true;
        }
      }
      if (!anyRunning(*rec)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto* old = obj(rec->pod, "status");
    status = computePodStatus(old ? *old : empty, observe(*rec));
    if (!anyRunning(*rec) && !rec->terminalTornDown) {
      teardownSandbox(*rec);
      rec->terminalTornDown = true;
    }
  }
  applyNodeShutdownStatus(status, runtime::rfc3339Now());
  client::PatchOptions opts;
  opts.subresource = "status";
  auto r = rest_.patch(kPods, ns, name, client::PatchType::kMerge,
                       json::serialize(json::object{{"status", status}}), opts);
  if (!r.ok())
    std::cerr << "berth agent: node shutdown: status of pod " << ns << "/" << name << ": "
              << r.status().message() << std::endl;
}

}  // namespace berth::kubelet
