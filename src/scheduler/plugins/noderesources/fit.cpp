#include "scheduler/plugins/noderesources/fit.h"

#include <algorithm>
#include <cmath>

namespace berth::scheduler::plugins {

std::vector<std::string> insufficientResources(const PodInfo& pod, const NodeInfo& node) {
  std::vector<std::string> out;
  if (static_cast<int64_t>(node.pods.size()) + 1 > node.allocatable.pods) {
    out.emplace_back("Too many pods");
  }
  const Resources& want = pod.requests;
  const Resources& alloc = node.allocatable;
  const Resources& used = node.requested;
  // A zero request always fits, even on a node that is already over-committed (upstream).
  if (want.milliCpu > 0 && want.milliCpu > alloc.milliCpu - used.milliCpu)
    out.emplace_back("Insufficient cpu");
  if (want.memory > 0 && want.memory > alloc.memory - used.memory)
    out.emplace_back("Insufficient memory");
  if (want.ephemeralStorage > 0 &&
      want.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage)
    out.emplace_back("Insufficient ephemeral-storage");
  for (const auto& [name, amount] : want.scalar) {
    if (amount == 0) continue;
    auto a = alloc.scalar.find(name);
    auto u = used.scalar.find(name);
    int64_t free = (a == alloc.scalar.end() ? 0 : a->second) - (u == used.scalar.end() ? 0 : u->second);
    if (amount > free) out.push_back("Insufficient " + name);
  }
  return out;
}

PluginStatus NodeResourcesFit::filter(const CycleState&, const PodInfo& pod,
                                      const NodeInfo& node) const {
  auto reasons = insufficientResources(pod, node);
  if (reasons.empty()) return PluginStatus::success();
  return {Code::kUnschedulable, std::move(reasons), {}};
}

namespace {

// Upstream's leastRequestedScore: the free share, 0..100.
int64_t leastRequested(int64_t requested, int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

}  // namespace

int64_t NodeResourcesFit::score(const CycleState&, const PodInfo& pod,
                                const NodeInfo& node) const {
  // CPU and memory, weight 1 each (upstream's default LeastAllocated resources); requests use
  // the non-zero defaults so empty pods still spread.
  int64_t cpu = leastRequested(node.nonZeroRequested.milliCpu + pod.nonZeroRequests.milliCpu,
                               node.allocatable.milliCpu);
  int64_t mem = leastRequested(node.nonZeroRequested.memory + pod.nonZeroRequests.memory,
                               node.allocatable.memory);
  return (cpu + mem) / 2;
}

int64_t NodeResourcesBalancedAllocation::score(const CycleState&, const PodInfo& pod,
                                               const NodeInfo& node) const {
  auto fraction = [](int64_t requested, int64_t capacity) {
    if (capacity <= 0) return 1.0;
    return std::min(1.0, static_cast<double>(requested) / static_cast<double>(capacity));
  };
  double cpu = fraction(node.requested.milliCpu + pod.requests.milliCpu, node.allocatable.milliCpu);
  double mem = fraction(node.requested.memory + pod.requests.memory, node.allocatable.memory);
  // Two resources: the standard deviation is half their difference (upstream's shortcut).
  double stddev = std::abs(cpu - mem) / 2;
  return static_cast<int64_t>((1 - stddev) * static_cast<double>(kMaxNodeScore));
}

}  // namespace berth::scheduler::plugins
