#include "kubelet/node_shutdown.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace berth::kubelet {

namespace json = boost::json;

namespace {

const json::object* objectAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string textAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

int64_t podPriority(const json::object& pod) {
  const auto* spec = objectAt(pod, "spec");
  if (!spec) return 0;
  if (const auto* p = spec->if_contains("priority"); p && p->is_number())
    return p->to_number<int64_t>();
  // The Priority admission plugin fills spec.priority; a pod that missed it still names its class.
  std::string cls = textAt(*spec, "priorityClassName");
  if (cls == "system-node-critical") return kSystemCriticalPriority + 1000;
  if (cls == "system-cluster-critical") return kSystemCriticalPriority;
  return 0;
}

// Replaces (or appends) the condition of the same type; keeps lastTransitionTime when the status
// is unchanged.
void setCondition(json::object& status, json::object cond, const std::string& now) {
  auto& list = status["conditions"];
  if (!list.is_array()) list = json::array{};
  for (auto& c : list.as_array()) {
    if (!c.is_object() || textAt(c.as_object(), "type") != textAt(cond, "type")) continue;
    bool same = textAt(c.as_object(), "status") == textAt(cond, "status");
    std::string since = textAt(c.as_object(), "lastTransitionTime");
    cond["lastTransitionTime"] = same && !since.empty() ? since : now;
    c = std::move(cond);
    return;
  }
  cond["lastTransitionTime"] = now;
  list.as_array().push_back(std::move(cond));
}

}  // namespace

core::Result<std::vector<ShutdownPriorityBand>> parseShutdownPriorityBands(const std::string& v) {
  std::vector<ShutdownPriorityBand> bands;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string item =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? v.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    ShutdownPriorityBand band;
    const char* end = item.data() + item.size();
    bool ok = eq != std::string::npos;
    if (ok) {
      auto p = std::from_chars(item.data(), item.data() + eq, band.priority);
      auto g = std::from_chars(item.data() + eq + 1, end, band.gracePeriodSeconds);
      ok = p.ec == std::errc() && p.ptr == item.data() + eq && g.ec == std::errc() && g.ptr == end;
    }
    if (!ok)
      return core::Status::badRequest("invalid shutdown grace period by pod priority \"" + item +
                                      "\": want PRIORITY=SECONDS");
    bands.push_back(band);
  }
  ShutdownConfig config;
  config.byPodPriority = bands;
  if (auto why = validateShutdownConfig(config); !why.empty()) return core::Status::badRequest(why);
  return bands;
}

std::string validateShutdownConfig(const ShutdownConfig& c) {
  if (c.criticalGracePeriod > c.gracePeriod)
    return "invalid configuration: --shutdown-grace-period-critical-pods must be <= "
           "--shutdown-grace-period";
  if (c.byPodPriority.empty()) return "";
  if (c.gracePeriod.count() != 0 || c.criticalGracePeriod.count() != 0)
    return "invalid configuration: cannot specify both --shutdown-grace-period-by-pod-priority "
           "and --shutdown-grace-period at the same time";
  std::set<int64_t> seen;
  for (const auto& b : c.byPodPriority) {
    if (b.gracePeriodSeconds < 0)
      return "invalid configuration: the shutdown grace period of priority " +
             std::to_string(b.priority) + " must be >= 0";
    if (!seen.insert(b.priority).second)
      return "invalid configuration: priority " + std::to_string(b.priority) +
             " is given twice in --shutdown-grace-period-by-pod-priority";
  }
  return "";
}

std::vector<ShutdownGroup> shutdownGroups(const ShutdownConfig& config) {
  if (!config.byPodPriority.empty()) {
    std::vector<ShutdownGroup> groups;
    for (const auto& b : config.byPodPriority) {
      ShutdownGroup g;
      g.priority = b.priority;
      g.period = std::chrono::seconds(b.gracePeriodSeconds);
      groups.push_back(std::move(g));
    }
    std::sort(groups.begin(), groups.end(),
              [](const auto& a, const auto& b) { return a.priority < b.priority; });
    return groups;
  }
  if (config.gracePeriod.count() <= 0) return {};
  auto regular = config.gracePeriod - config.criticalGracePeriod;
  if (regular.count() < 0 || config.criticalGracePeriod.count() < 0) return {};
  std::vector<ShutdownGroup> groups(2);
  groups[0].priority = 0;  // scheduling.DefaultPriorityWhenNoDefaultClassExists
  groups[0].period = regular;
  groups[1].priority = kSystemCriticalPriority;
  groups[1].period = config.criticalGracePeriod;
  return groups;
}

void assignToGroups(std::vector<ShutdownGroup>& groups, std::vector<json::object> pods) {
  if (groups.empty()) return;
  for (auto& pod : pods) {
    int64_t priority = podPriority(pod);
    size_t index = 0;  // groups are sorted by priority, lowest first
    for (size_t i = 0; i < groups.size(); ++i)
      if (groups[i].priority <= priority) index = i;
    groups[index].pods.push_back(std::move(pod));
  }
}

int64_t podShutdownGracePeriod(const json::object& pod, const ShutdownGroup& group) {
  int64_t grace = std::chrono::duration_cast<std::chrono::seconds>(group.period).count();
  if (const auto* spec = objectAt(pod, "spec"))
    if (const auto* t = spec->if_contains("terminationGracePeriodSeconds"); t && t->is_number())
      grace = std::min(grace, t->to_number<int64_t>());
  return grace;
}

void applyNodeShutdownStatus(json::object& status, const std::string& now) {
  if (textAt(status, "phase") != "Succeeded") status["phase"] = "Failed";
  status["reason"] = kNodeShutdownReason;
  status["message"] = kNodeShutdownMessage;
  setCondition(status,
               json::object{{"type", "DisruptionTarget"},
                            {"status", "True"},
                            {"lastProbeTime", nullptr},
                            {"reason", "TerminationByKubelet"},
                            {"message", kNodeShutdownMessage}},
               now);
}

void markNodeShuttingDown(json::object& nodeStatus, const std::string& now) {
  setCondition(nodeStatus,
               json::object{{"type", "Ready"},
                            {"status", "False"},
                            {"lastHeartbeatTime", now},
                            {"reason", "KubeletNotReady"},
                            {"message", kNodeShuttingDownMessage}},
               now);
}

void NodeShutdownManager::run(std::vector<json::object> activePods, const KillPod& kill,
                              const std::function<void()>& nodeStatusChanged) {
  auto groups = shutdownGroups(config_);
  if (groups.empty()) return;
  shuttingDown_ = true;
  if (nodeStatusChanged) nodeStatusChanged();
  assignToGroups(groups, std::move(activePods));

  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
  };
  std::vector<std::thread> kills;
  std::vector<std::shared_ptr<Pending>> pendings;
  for (const auto& group : groups) {
    if (group.pods.empty()) continue;  // upstream does not wait for an empty band
    auto pending = std::make_shared<Pending>();
    pending->left = group.pods.size();
    pendings.push_back(pending);
    for (const auto& pod : group.pods) {
      int64_t grace = podShutdownGracePeriod(pod, group);
      kills.emplace_back([&kill, pod, grace, pending] {
        kill(pod, grace);
        std::lock_guard lock(pending->mu);
        if (--pending->left == 0) pending->cv.notify_all();
      });
    }
    // The next band starts when this one is done or its period is over (the kills still
    // running go on; they are bounded by their own grace periods).
    std::unique_lock lock(pending->mu);
    pending->cv.wait_for(lock, group.period, [&] { return pending->left == 0; });
  }
  for (auto& t : kills) t.join();
}

}  // namespace berth::kubelet
