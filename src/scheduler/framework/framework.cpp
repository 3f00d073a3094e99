#include "scheduler/framework/framework.h"

#include <algorithm>

namespace berth::scheduler {

CycleState CycleState::clone() const {
  CycleState c;
  for (const auto& [k, v] : data_) c.data_[k] = v ? v->clone() : nullptr;
  c.skipFilter = skipFilter;
  c.skipScore = skipScore;
  return c;
}

void defaultNormalizeScore(std::vector<int64_t>& scores, bool reverse) {
  int64_t max = 0;
  for (auto s : scores) max = std::max(max, s);
  for (auto& s : scores) {
    if (max == 0) {
      s = reverse ? kMaxNodeScore : 0;
      continue;
    }
    s = kMaxNodeScore * s / max;
    if (reverse) s = kMaxNodeScore - s;
  }
}

std::string reasonHistogram(const NodeToStatus& statuses) {
  std::map<std::string, int> counts;
  for (const auto& [node, st] : statuses)
    for (const auto& r : st.reasons) ++counts[r];
  std::vector<std::string> parts;
  for (const auto& [reason, n] : counts) parts.push_back(std::to_string(n) + " " + reason);
  // Upstream sorts the "count reason" strings themselves (sort.Strings).
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string fitErrorMessage(size_t numNodes, const NodeToStatus& statuses,
                            const std::string& preFilterMsg, const std::string& postFilterMsg) {
  std::string msg = "0/" + std::to_string(numNodes) + " nodes are available:";
  if (!preFilterMsg.empty()) {
    msg += " " + preFilterMsg + ".";
  } else if (auto h = reasonHistogram(statuses); !h.empty()) {
    msg += " " + h + ".";
  }
  if (!postFilterMsg.empty()) msg += " " + postFilterMsg + ".";
  return msg;
}

}  // namespace berth::scheduler
