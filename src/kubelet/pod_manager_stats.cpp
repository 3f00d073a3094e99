// PodManager as the stats provider's PodSource: the pods this node runs and the cgroups of their
// running containers, from the snapshot publishLocator keeps (so no pod worker is disturbed).
#include "kubelet/pod_manager.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/streaming/cri_log.h"

namespace berth::kubelet {

namespace {
int64_t nanosOf(const std::string& rfc3339) {
  return rfc3339.empty() ? 0 : streaming::parseRfc3339(rfc3339).value_or(0);
}
}  // namespace

std::vector<stats::PodRef> PodManager::statsPods() {
  std::vector<stats::PodRef> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, entry] : locator_) {
    if (entry.uid.empty()) continue;
    size_t slash = key.find('/');
    stats::PodRef pod{key.substr(slash + 1),         key.substr(0, slash),     entry.uid,
                      runtime::podCgroup(entry.uid), nanosOf(entry.startTime), {}};
    for (const auto& [name, info] : entry.containers) {
      auto started = entry.startedAt.find(name);
      if (info.pid == 0 || started == entry.startedAt.end()) continue;
      pod.containers.push_back(
          {name, runtime::containerCgroup(entry.uid, info.containerId), nanosOf(started->second)});
    }
    out.push_back(std::move(pod));
  }
  return out;
}

}  // namespace berth::kubelet
