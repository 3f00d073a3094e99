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

std::vector<stats::VolumeRef> PodManager::statsVolumes(const PodRecord& rec) {
  std::vector<stats::VolumeRef> out;
  const auto* spec = obj(rec.pod, "spec");
  const auto* volumes = spec ? arr(*spec, "volumes") : nullptr;
  if (!volumes) return out;
  for (const auto& v : *volumes) {
    if (!v.is_object()) continue;
    const auto& vo = v.as_object();
    auto mounted = rec.volumes.find(str(vo, "name"));
    if (mounted == rec.volumes.end()) continue;
    stats::VolumeRef ref{str(vo, "name"), mounted->second.hostPath, "", false};
    if (const auto* claim = obj(vo, "persistentVolumeClaim")) {
      ref.pvcName = str(*claim, "claimName");
    } else if (vo.contains("emptyDir") || vo.contains("configMap") || vo.contains("secret") ||
               vo.contains("downwardAPI") || vo.contains("projected")) {
      ref.ephemeral = true;
    } else {
      continue;  // hostPath and the like: the node's own directories (upstream's MetricsNil)
    }
    out.push_back(std::move(ref));
  }
  return out;
}

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
      auto rootfs = entry.rootfsDirs.find(name);
      pod.containers.push_back({name, runtime::containerCgroup(entry.uid, info.containerId),
                                nanosOf(started->second),
                                rootfs == entry.rootfsDirs.end() ? "" : rootfs->second,
                                info.logPath.substr(0, info.logPath.rfind('/'))});
      // Any of its processes sees the pod's network namespace (a host-network pod's is the
      // node's: no pod network figures, as the host's interfaces are not the pod's).
      if (pod.netDevPath.empty() && !entry.hostNetwork)
        pod.netDevPath = "/proc/" + std::to_string(info.pid) + "/net/dev";
    }
    pod.volumes = entry.volumes;
    out.push_back(std::move(pod));
  }
  return out;
}

}  // namespace berth::kubelet
