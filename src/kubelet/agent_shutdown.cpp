// Agent::shutdownGracefully: the agent's side of a graceful node shutdown (node_shutdown.h).
// The pod workers stop first, so from then on the shutdown alone touches the pods; the
// heartbeat keeps running and posts the NotReady status at once.
#include <boost/json.hpp>

#include <iostream>

#include "kubelet/agent.h"

namespace json = boost::json;

namespace berth::kubelet {

void Agent::shutdownGracefully() {
  if (!shutdown_ || !shutdown_->enabled() || !pods_ || !podInformer_) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  std::cout << "berth agent: node " << o_.nodeName << " shutting down, stopping its pods"
            << std::endl;
  queue_.shutDown();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  events_->record(json::object{{"kind", "Node"},
                               {"apiVersion", "v1"},
                               {"metadata", {{"name", o_.nodeName}, {"uid", o_.nodeName}}}},
                  "Normal", "NodeShutdown", "Shutdown manager detected shutdown event");

  // The pods bound to this node that have not finished (upstream's GetActivePods).
  std::vector<json::object> active;
  for (const auto& p : podInformer_->lister().list("")) {
    if (!p->is_object()) continue;
    const auto* st = obj(p->as_object(), "status");
    std::string phase = st ? str(*st, "phase") : "";
    if (phase != "Succeeded" && phase != "Failed") active.push_back(p->as_object());
  }
  auto start = std::chrono::steady_clock::now();
  shutdown_->run(
      std::move(active),
      [this](const json::object& pod, int64_t grace) { pods_->killForNodeShutdown(pod, grace); },
      [this] {
        {
          std::lock_guard lock(mu_);
          postStatusNow_ = true;
        }
        cv_.notify_all();
      });
  events_->flush();
  std::cout << "berth agent: node shutdown done in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms" << std::endl;
}

}  // namespace berth::kubelet
