#include "controllers/job/job_logic.h"

#include <algorithm>

#include "controllers/job/pod_failure_policy.h"

namespace berth::controllers::job {

namespace json = boost::json;
using client::ObjectPtr;

namespace {

std::set<std::string> uidList(const json::object& status, std::string_view which) {
  std::set<std::string> out;
  const json::value* v = objAt(status, "uncountedTerminatedPods").if_contains(which);
  if (v && v->is_array()) {
    for (const json::value& u : v->get_array()) {
      if (u.is_string()) out.insert(std::string(u.get_string()));
    }
  }
  return out;
}

json::object& uncountedOf(json::object& status) {
  json::value& u = status["uncountedTerminatedPods"];
  if (!u.is_object()) u = json::object();
  return u.as_object();
}

void appendUid(json::object& status, std::string_view which, const std::string& uid) {
  json::value& list = uncountedOf(status)[which];
  if (!list.is_array()) list = json::array();
  list.as_array().push_back(json::value(uid));
}

long long restartCount(const json::value& pod) {
  long long n = 0;
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const json::value* v = statusOf(pod).if_contains(list);
    if (!v || !v->is_array()) continue;
    for (const json::value& s : v->get_array()) {
      if (s.is_object()) n += intAt(s.get_object(), "restartCount").value_or(0);
    }
  }
  return n;
}

}  // namespace

bool isPodFailed(const json::value& pod, const json::value& job) {
  std::string phase = podPhase(pod);
  if (phase == "Failed") return true;
  if (strAt(specOf(job), "podReplacementPolicy") == "Failed") return false;
  return isBeingDeleted(pod) && phase != "Succeeded";
}

bool hasFinalizer(const json::value& pod) {
  const json::value* f = metaOf(pod).if_contains("finalizers");
  if (!f || !f->is_array()) return false;
  for (const json::value& v : f->get_array()) {
    if (v.is_string() && v.get_string() == kTrackingFinalizer) return true;
  }
  return false;
}

bool hasTrueCondition(const json::value& job, std::string_view type) {
  const json::value* conds = statusOf(job).if_contains("conditions");
  if (!conds || !conds->is_array()) return false;
  for (const json::value& c : conds->get_array()) {
    if (c.is_object() && strAt(c.get_object(), "type") == type &&
        strAt(c.get_object(), "status") == "True") {
      return true;
    }
  }
  return false;
}

bool isFinished(const json::value& job) {
  return hasTrueCondition(job, "Complete") || hasTrueCondition(job, "Failed");
}

bool ensureCondition(json::object& status, const Condition& c, std::string_view cStatus,
                     const std::string& now) {
  json::value* existing = status.if_contains("conditions");
  if (existing && !existing->is_array()) {
    status.erase("conditions");
    existing = nullptr;
  }
  if (existing) {
    for (json::value& v : existing->as_array()) {
      if (!v.is_object() || strAt(v.get_object(), "type") != c.type) continue;
      json::object& o = v.as_object();
      bool statusChanged = strAt(o, "status") != cStatus;
      if (!statusChanged && strAt(o, "reason") == c.reason && strAt(o, "message") == c.message) {
        return false;
      }
      o["status"] = cStatus;
      o["lastProbeTime"] = now;
      if (statusChanged) o["lastTransitionTime"] = now;
      o["reason"] = c.reason;
      o["message"] = c.message;
      if (c.reason.empty()) o.erase("reason");
      if (c.message.empty()) o.erase("message");
      return true;
    }
  }
  if (cStatus != "True") return false;  // nothing to False is no news: no empty list either
  json::value& slot = status["conditions"];
  if (!slot.is_array()) slot = json::array();
  json::object cond{
      {"type", c.type}, {"status", cStatus}, {"lastProbeTime", now}, {"lastTransitionTime", now}};
  if (!c.reason.empty()) cond["reason"] = c.reason;
  if (!c.message.empty()) cond["message"] = c.message;
  slot.as_array().push_back(std::move(cond));
  return true;
}

NewFinished newFinishedPods(const json::value& job, const std::vector<ObjectPtr>& pods,
                            const std::set<std::string>& expectedRm) {
  NewFinished out;
  std::set<std::string> succeeded = uidList(statusOf(job), "succeeded");
  std::set<std::string> failed = uidList(statusOf(job), "failed");
  for (const ObjectPtr& p : pods) {
    std::string uid = uidOf(*p);
    if (!hasFinalizer(*p) || expectedRm.count(uid)) continue;  // counted before
    if (podPhase(*p) == "Succeeded") {
      if (!succeeded.count(uid)) out.succeeded.push_back(p);
    } else if (isPodFailed(*p, job) && !failed.count(uid) && countsAsFailure(job, *p)) {
      out.failed.push_back(p);
    }
  }
  return out;
}

std::optional<Condition> failureCondition(const json::value& job,
                                          const std::vector<ObjectPtr>& pods, long long failed,
                                          SystemTime now) {
  const json::value* conds = statusOf(job).if_contains("conditions");
  if (conds && conds->is_array()) {
    for (const json::value& c : conds->get_array()) {
      if (c.is_object() && strAt(c.get_object(), "type") == "FailureTarget" &&
          strAt(c.get_object(), "status") == "True") {
        return Condition{"Failed", strAt(c.get_object(), "reason"),
                         strAt(c.get_object(), "message")};
      }
    }
  }
  const json::object& spec = specOf(job);
  long long backoffLimit = intAt(spec, "backoffLimit").value_or(6);
  bool pastOnFailure = false;
  if (strAt(objAt(spec, "template", "spec"), "restartPolicy") == "OnFailure") {
    long long restarts = 0;
    for (const ObjectPtr& p : pods) {
      std::string phase = podPhase(*p);
      if (phase == "Running" || phase == "Pending") restarts += restartCount(*p);
    }
    pastOnFailure = backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit;
  }
  if (failed > backoffLimit || pastOnFailure) {
    return Condition{"FailureTarget", "BackoffLimitExceeded",
                     "Job has reached the specified backoff limit"};
  }
  auto deadline = intAt(spec, "activeDeadlineSeconds");
  auto start = parseTime(strAt(statusOf(job), "startTime"));
  if (deadline && start && !boolAt(spec, "suspend").value_or(false) &&
      now - *start >= std::chrono::seconds(*deadline)) {
    return Condition{"FailureTarget", "DeadlineExceeded",
                     "Job was active longer than specified deadline"};
  }
  return std::nullopt;
}

long long wantActive(const json::value& job, long long active, long long succeeded) {
  const json::object& spec = specOf(job);
  long long parallelism = intAt(spec, "parallelism").value_or(1);
  auto completions = intAt(spec, "completions");
  if (!completions) return succeeded > 0 ? active : parallelism;
  return std::clamp(*completions - succeeded, 0LL, parallelism);
}

std::vector<ObjectPtr> podsForRemoval(std::vector<ObjectPtr> active, long long n) {
  auto rank = [](const ObjectPtr& p) {
    int phase = podPhase(*p) == "Pending" ? 0 : podPhase(*p) == "Running" ? 2 : 1;
    return std::make_tuple(!strAt(specOf(*p), "nodeName").empty(), phase, isPodReady(*p));
  };
  std::stable_sort(active.begin(), active.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    auto ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb;
    // Younger first: they have done the least work.
    return strAt(metaOf(*a), "creationTimestamp") > strAt(metaOf(*b), "creationTimestamp");
  });
  if (n < static_cast<long long>(active.size()))
    active.resize(static_cast<size_t>(std::max(0LL, n)));
  return active;
}

json::object podTemplateFor(const json::value& job) {
  json::object tmpl = objAt(job, "spec", "template");
  json::value& meta = tmpl["metadata"];
  if (!meta.is_object()) meta = json::object();
  json::value& fin = meta.as_object()["finalizers"];
  if (!fin.is_array()) fin = json::array();
  bool present = false;
  for (const json::value& f : fin.as_array())
    present |= f.is_string() && f.get_string() == kTrackingFinalizer;
  if (!present) fin.as_array().push_back(kTrackingFinalizer);
  return tmpl;
}

std::vector<ObjectPtr> recordUncounted(json::object& status, const json::value& job,
                                       const std::vector<ObjectPtr>& pods,
                                       const std::set<std::string>& expectedRm, bool finishing,
                                       bool failing, bool indexed,
                                       const std::set<std::string>& held) {
  std::vector<ObjectPtr> toRemove;
  std::set<std::string> succeeded = uidList(status, "succeeded");
  std::set<std::string> failed = uidList(status, "failed");
  for (const ObjectPtr& p : pods) {
    std::string uid = uidOf(*p);
    if (!hasFinalizer(*p) || expectedRm.count(uid)) continue;
    bool considerFailed = isPodFailed(*p, job);
    bool succeededPhase = podPhase(*p) == "Succeeded";
    if (!(isBeingDeleted(job) || finishing || succeededPhase || considerFailed)) continue;
    if (held.count(uid) && !(isBeingDeleted(job) || finishing)) continue;
    toRemove.push_back(p);
    if (succeededPhase && !failed.count(uid)) {
      if (!indexed && succeeded.insert(uid).second) appendUid(status, "succeeded", uid);
    } else if (considerFailed) {
      // A failure a podFailurePolicy Ignore rule matches is not counted (upstream).
      if (countsAsFailure(job, *p) && failed.insert(uid).second) appendUid(status, "failed", uid);
    } else if (finishing && failing && !specOf(job).contains("podFailurePolicy")) {
      // A job that fails takes every pod it still has down with it, counted as failed.
      if (failed.insert(uid).second) appendUid(status, "failed", uid);
    }
  }
  return toRemove;
}

bool countUncounted(json::object& status, const std::set<std::string>& withFinalizer) {
  bool changed = false;
  json::object& uncounted = uncountedOf(status);
  for (const char* which : {"succeeded", "failed"}) {
    json::value* list = uncounted.if_contains(which);
    if (!list || !list->is_array()) continue;
    json::array keep;
    for (const json::value& u : list->get_array()) {
      if (u.is_string() && withFinalizer.count(std::string(u.get_string()))) keep.push_back(u);
    }
    long long moved = static_cast<long long>(list->get_array().size() - keep.size());
    if (moved > 0) {
      changed = true;
      status[which] = intAt(status, which).value_or(0) + moved;
    }
    if (keep.empty()) {
      uncounted.erase(which);
    } else {
      *list = std::move(keep);
    }
  }
  return changed;
}

long long uncountedCount(const json::object& status) {
  return static_cast<long long>(uidList(status, "succeeded").size() +
                                uidList(status, "failed").size());
}

}  // namespace berth::controllers::job
