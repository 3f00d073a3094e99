#include "controllers/job/index_backoff.h"

#include <algorithm>

#include "controllers/job/job_indexes.h"
#include "controllers/job/pod_failure_policy.h"

namespace berth::controllers::job {

namespace json = boost::json;
using client::ObjectPtr;

namespace {

// Upstream DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
constexpr auto kPodFailureBackoff = std::chrono::seconds(10);
constexpr auto kMaxPodFailureBackoff = std::chrono::seconds(360);

long long annotationCount(const json::value& pod, const char* key) {
  std::string v = strAt(objAt(pod, "metadata", "annotations"), key);
  if (v.empty() || v.size() > 9) return 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
  }
  return std::stoll(v);
}

std::optional<SystemTime> latestContainerFinish(const json::value& pod) {
  std::optional<SystemTime> out;
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const json::value* statuses = statusOf(pod).if_contains(list);
    if (!statuses || !statuses->is_array()) continue;
    for (const json::value& s : statuses->get_array()) {
      auto t = parseTime(strAt(objAt(s, "state", "terminated"), "finishedAt"));
      if (t && (!out || *t > *out)) out = t;
    }
  }
  return out;
}

std::optional<SystemTime> readyFalseSince(const json::value& pod) {
  const json::value* conds = statusOf(pod).if_contains("conditions");
  if (!conds || !conds->is_array()) return std::nullopt;
  for (const json::value& c : conds->get_array()) {
    if (c.is_object() && strAt(c.get_object(), "type") == "Ready" &&
        strAt(c.get_object(), "status") == "False") {
      return parseTime(strAt(c.get_object(), "lastTransitionTime"));
    }
  }
  return std::nullopt;
}

}  // namespace

bool hasBackoffLimitPerIndex(const json::value& job) {
  return isIndexed(job) && intAt(specOf(job), "backoffLimitPerIndex").has_value();
}

long long indexFailureCount(const json::value& pod) {
  return annotationCount(pod, kIndexFailureCountAnnotation);
}

long long indexIgnoredFailureCount(const json::value& pod) {
  return annotationCount(pod, kIndexIgnoredFailureCountAnnotation);
}

bool isIndexFailed(const json::value& job, const json::value& pod) {
  if (!isPodFailed(pod, job)) return false;
  bool counted = true;
  if (specOf(job).contains("podFailurePolicy")) {
    PolicyMatch m = matchPodFailurePolicy(job, pod);
    if (m.action == "FailIndex") return true;
    counted = m.countFailed;
  }
  return counted &&
         indexFailureCount(pod) >= intAt(specOf(job), "backoffLimitPerIndex").value_or(0);
}

std::set<long long> failedIndexes(const json::value& job, const std::vector<ObjectPtr>& pods) {
  long long completions = intAt(specOf(job), "completions").value_or(0);
  std::set<long long> out = parseIndexes(strAt(statusOf(job), "failedIndexes"), completions);
  for (const ObjectPtr& p : pods) {
    auto ix = completionIndex(*p);
    if (ix && *ix < completions && isIndexFailed(job, *p)) out.insert(*ix);
  }
  return out;
}

std::optional<Condition> perIndexFailureCondition(const json::value& job, size_t failed,
                                                  size_t succeeded) {
  auto maxFailed = intAt(specOf(job), "maxFailedIndexes");
  long long completions = intAt(specOf(job), "completions").value_or(0);
  if (maxFailed && static_cast<long long>(failed) > *maxFailed) {
    return Condition{"FailureTarget", "MaxFailedIndexesExceeded",
                     "Job has exceeded the specified maximal number of failed indexes"};
  }
  if (failed > 0 && static_cast<long long>(failed + succeeded) >= completions) {
    return Condition{"FailureTarget", "FailedIndexes", "Job has failed indexes"};
  }
  return std::nullopt;
}

ObjectPtr lastFailedPod(const json::value& job, const std::vector<ObjectPtr>& pods,
                        long long index) {
  ObjectPtr best;
  auto rank = [](const json::value& p) {
    return std::make_pair(indexFailureCount(p) + indexIgnoredFailureCount(p), finishedTime(p));
  };
  for (const ObjectPtr& p : pods) {
    if (completionIndex(*p) != index || !isPodFailed(*p, job)) continue;
    if (!best || rank(*p) > rank(*best)) best = p;
  }
  return best;
}

std::set<std::string> podsWithDelayedDeletion(const json::value& job,
                                              const std::vector<ObjectPtr>& pods,
                                              const std::set<long long>& settled) {
  long long completions = intAt(specOf(job), "completions").value_or(0);
  std::set<long long> busy = settled;
  for (const ObjectPtr& p : pods) {
    if (auto ix = completionIndex(*p); ix && isPodActive(*p)) busy.insert(*ix);
  }
  std::set<std::string> out;
  std::set<long long> seen;
  for (const ObjectPtr& p : pods) {
    auto ix = completionIndex(*p);
    if (!ix || *ix >= completions || busy.count(*ix) || !seen.insert(*ix).second) continue;
    if (ObjectPtr last = lastFailedPod(job, pods, *ix)) out.insert(uidOf(*last));
  }
  return out;
}

SystemTime finishedTime(const json::value& pod) {
  if (auto t = latestContainerFinish(pod)) return *t;
  if (auto t = readyFalseSince(pod)) return *t;
  if (auto t = parseTime(strAt(metaOf(pod), "deletionTimestamp"))) return *t;
  return parseTime(strAt(metaOf(pod), "creationTimestamp")).value_or(SystemTime{});
}

std::chrono::system_clock::duration remainingBackoff(const json::value& lastFailed,
                                                     SystemTime now) {
  long long failures = indexFailureCount(lastFailed) + indexIgnoredFailureCount(lastFailed) + 1;
  auto delay = kPodFailureBackoff * (1LL << std::min<long long>(failures - 1, 10));
  if (delay > kMaxPodFailureBackoff) delay = kMaxPodFailureBackoff;
  return finishedTime(lastFailed) + delay - now;
}

void annotateFailureCounts(json::object& pod, const json::value& job,
                           const json::value* lastFailed) {
  long long failures = 0, ignored = 0;
  if (lastFailed) {
    failures = indexFailureCount(*lastFailed);
    ignored = indexIgnoredFailureCount(*lastFailed);
    (countsAsFailure(job, *lastFailed) ? failures : ignored) += 1;
  }
  json::value& meta = pod["metadata"];
  if (!meta.is_object()) meta = json::object();
  json::value& annotations = meta.as_object()["annotations"];
  if (!annotations.is_object()) annotations = json::object();
  annotations.as_object()[kIndexFailureCountAnnotation] = std::to_string(failures);
  if (ignored > 0) {
    annotations.as_object()[kIndexIgnoredFailureCountAnnotation] = std::to_string(ignored);
  }
}

}  // namespace berth::controllers::job
