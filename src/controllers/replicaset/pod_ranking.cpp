#include "controllers/replicaset/pod_ranking.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "controllers/framework/pod_util.h"

namespace berth::controllers::replicaset {

namespace json = boost::json;

namespace {

int phaseOrdinal(const json::value& pod) {
  std::string phase = stringAt(pod, {"status", "phase"});
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;  // Pending (and anything else) first
}

long long deletionCost(const json::value& pod) {
  auto v = annotation(pod, "controller.kubernetes.io/pod-deletion-cost");
  if (!v) return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;  // upstream: an invalid cost counts as 0
  }
}

// log2 of the age in nanoseconds; -1 for a time not in the past.
long long logAge(SystemTime t, SystemTime now) {
  auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count();
  return d > 0 ? static_cast<long long>(std::log2(static_cast<double>(d))) : -1;
}

// Compares two timestamps as upstream's afterOrZero/logarithmicRankDiff pair: returns
// <0 when `a` should go first, >0 when `b` should, 0 for a tie to break by uid.
int compareTimes(std::optional<SystemTime> a, std::optional<SystemTime> b, SystemTime now) {
  if (!a || !b) return !a ? -1 : 1;  // the zero time goes first
  long long diff = logAge(*a, now) - logAge(*b, now);
  return diff < 0 ? -1 : diff > 0 ? 1 : 0;
}

std::pair<long long, long long> maxRestarts(const json::value& pod) {
  long long regular = 0, sidecar = 0;
  if (const json::value* cs = valueAt(pod, {"status", "containerStatuses"}); cs && cs->is_array())
    for (const auto& c : cs->get_array()) regular = std::max(regular, intAt(c, {"restartCount"}));
  // Restartable init containers (sidecars): restartPolicy Always in the spec.
  std::map<std::string, bool> restartable;
  if (const json::value* ic = valueAt(pod, {"spec", "initContainers"}); ic && ic->is_array())
    for (const auto& c : ic->get_array())
      restartable[stringAt(c, {"name"})] = stringAt(c, {"restartPolicy"}) == "Always";
  if (const json::value* is = valueAt(pod, {"status", "initContainerStatuses"});
      is && is->is_array())
    for (const auto& c : is->get_array())
      if (restartable[stringAt(c, {"name"})])
        sidecar = std::max(sidecar, intAt(c, {"restartCount"}));
  return {regular, sidecar};
}

}  // namespace

bool deleteBefore(const json::value& a, int rankA, const json::value& b, int rankB,
                  SystemTime now) {
  std::string nodeA = stringAt(a, {"spec", "nodeName"}), nodeB = stringAt(b, {"spec", "nodeName"});
  if (nodeA != nodeB && (nodeA.empty() || nodeB.empty())) return nodeA.empty();
  if (phaseOrdinal(a) != phaseOrdinal(b)) return phaseOrdinal(a) < phaseOrdinal(b);
  bool readyA = isPodReady(a), readyB = isPodReady(b);
  if (readyA != readyB) return !readyA;
  if (deletionCost(a) != deletionCost(b)) return deletionCost(a) < deletionCost(b);
  if (rankA != rankB) return rankA > rankB;
  const std::string uidA = uidOf(a), uidB = uidOf(b);
  if (readyA && readyB) {
    auto ta = podReadyTime(a), tb = podReadyTime(b);
    if (ta != tb) {
      int c = compareTimes(ta, tb, now);
      return c == 0 ? uidA < uidB : c < 0;
    }
  }
  auto [regA, sideA] = maxRestarts(a);
  auto [regB, sideB] = maxRestarts(b);
  if (regA != regB) return regA > regB;
  if (sideA != sideB) return sideA > sideB;
  auto ca = parseTime(stringAt(a, {"metadata", "creationTimestamp"}));
  auto cb = parseTime(stringAt(b, {"metadata", "creationTimestamp"}));
  if (ca != cb) {
    int c = compareTimes(ca, cb, now);
    return c == 0 ? uidA < uidB : c < 0;
  }
  return false;
}

std::vector<client::ObjectPtr> podsToDelete(const std::vector<client::ObjectPtr>& pods,
                                            const std::vector<client::ObjectPtr>& related,
                                            size_t count, SystemTime now) {
  if (count >= pods.size()) return pods;
  std::map<std::string, int> onNode;
  for (const auto& p : related)
    if (isPodActive(*p)) ++onNode[stringAt(*p, {"spec", "nodeName"})];
  std::vector<int> rank(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    auto it = onNode.find(stringAt(*pods[i], {"spec", "nodeName"}));
    rank[i] = it == onNode.end() ? 0 : it->second;
  }
  std::vector<size_t> order(pods.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return deleteBefore(*pods[i], rank[i], *pods[j], rank[j], now);
  });
  std::vector<client::ObjectPtr> out;
  for (size_t i = 0; i < count; ++i) out.push_back(pods[order[i]]);
  return out;
}

}  // namespace berth::controllers::replicaset
