#include "controllers/deployment/deployment_util.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>

namespace berth::controllers::deployment {

namespace json = boost::json;

long long specReplicas(const json::value& obj) { return intAt(obj, {"spec", "replicas"}, 1); }

long long statusInt(const json::value& obj, std::string_view field) {
  return intAt(obj, {"status", field});
}

bool isPaused(const json::value& d) {
  const json::value* v = valueAt(d, {"spec", "paused"});
  return v && v->is_bool() && v->get_bool();
}

// ---- fenceposts ----------------------------------------------------------------------------

core::Result<long long> scaledValue(const json::value* v, long long total, bool roundUp) {
  if (!v || v->is_null()) return 0LL;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<long long>(v->get_uint64());
  if (v->is_string()) {
    std::string_view s = v->get_string();
    long long pct = 0;
    if (s.size() >= 2 && s.back() == '%') {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, pct);
      if (ec == std::errc() && p == s.data() + s.size() - 1) {
        double exact = static_cast<double>(pct) * static_cast<double>(total) / 100.0;
        return static_cast<long long>(roundUp ? std::ceil(exact) : std::floor(exact));
      }
    }
    return core::Status::badRequest("invalid value for IntOrString: invalid value \"" +
                                    std::string(s) + "\": must be an integer or percentage");
  }
  return core::Status::badRequest("invalid type: neither int nor percentage");
}

core::Result<std::pair<long long, long long>> resolveFenceposts(const json::value* surgeV,
                                                                const json::value* unavV,
                                                                long long desired) {
  auto surge = scaledValue(surgeV, desired, true);
  if (!surge.ok()) return surge.status();
  auto unavailable = scaledValue(unavV, desired, false);
  if (!unavailable.ok()) return unavailable.status();
  // Validation forbids both being 0, but rounding down can make unavailable 0; then allow one
  // unavailable pod rather than none at all (surge may be blocked by quota).
  if (*surge == 0 && *unavailable == 0) return std::pair<long long, long long>{0, 1};
  return std::pair<long long, long long>{*surge, *unavailable};
}

bool isRollingUpdate(const json::value& d) {
  return stringAt(d, {"spec", "strategy", "type"}) == "RollingUpdate";
}

namespace {
std::pair<long long, long long> fenceposts(const json::value& d) {
  auto r = resolveFenceposts(valueAt(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
                             valueAt(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}),
                             specReplicas(d));
  return r.ok() ? *r : std::pair<long long, long long>{0, 0};  // validation rejects bad values
}
}  // namespace

long long maxSurge(const json::value& d) { return isRollingUpdate(d) ? fenceposts(d).first : 0; }

long long maxUnavailable(const json::value& d) {
  if (!isRollingUpdate(d) || specReplicas(d) == 0) return 0;
  return std::min(fenceposts(d).second, specReplicas(d));
}

// ---- sizing ----------------------------------------------------------------------------------

long long sumSpecReplicas(const RSList& rss) {
  long long n = 0;
  for (const auto& rs : rss)
    if (rs) n += specReplicas(*rs);
  return n;
}

long long sumStatus(const RSList& rss, std::string_view field) {
  long long n = 0;
  for (const auto& rs : rss)
    if (rs) n += statusInt(*rs, field);
  return n;
}

RSList filterActive(const RSList& rss) {
  RSList out;
  for (const auto& rs : rss)
    if (rs && specReplicas(*rs) > 0) out.push_back(rs);
  return out;
}

core::Result<long long> newRSNewReplicas(const json::value& d, const RSList& allRSs,
                                         const json::value& newRS) {
  std::string type = stringAt(d, {"spec", "strategy", "type"});
  if (type == "Recreate") return specReplicas(d);
  if (type != "RollingUpdate")
    return core::Status::badRequest("deployment type " + type + " isn't supported");
  auto surge = scaledValue(valueAt(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
                           specReplicas(d), true);
  if (!surge.ok()) return surge.status();
  long long current = sumSpecReplicas(allRSs);
  long long maxTotal = specReplicas(d) + *surge;
  if (current >= maxTotal) return specReplicas(newRS);  // no room to surge
  long long scaleUp = std::min(maxTotal - current, specReplicas(d) - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

std::optional<long long> intAnnotation(const json::value& obj, std::string_view key) {
  auto v = annotation(obj, key);
  if (!v) return std::nullopt;
  long long n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return n;
}

namespace {
long long replicaSetFraction(const json::value& rs, const json::value& d) {
  if (specReplicas(d) == 0) return -specReplicas(rs);  // scaling to zero: all of it goes
  long long deploymentReplicas = specReplicas(d) + maxSurge(d);
  // Without the annotation fall back to the current size; the min/max in getProportion keeps
  // the result within bounds either way.
  long long annotated =
      intAnnotation(rs, kMaxReplicasAnnotation).value_or(statusInt(d, "replicas"));
  if (annotated == 0) return 0;
  double size =
      static_cast<double>(specReplicas(rs) * deploymentReplicas) / static_cast<double>(annotated);
  return static_cast<long long>(std::llround(size)) - specReplicas(rs);
}
}  // namespace

long long getProportion(const json::value& rs, const json::value& d, long long toAdd,
                        long long added) {
  if (specReplicas(rs) == 0 || toAdd == 0 || toAdd == added) return 0;
  long long fraction = replicaSetFraction(rs, d);
  long long allowed = toAdd - added;
  // Scaling up never hands out more than is left, scaling down never takes more.
  return toAdd > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

bool isSaturated(const json::value& d, const client::ObjectPtr& rs) {
  if (!rs) return false;
  auto desired = intAnnotation(*rs, kDesiredReplicasAnnotation);
  if (!desired) return false;
  long long want = specReplicas(d);
  return specReplicas(*rs) == want && *desired == want &&
         statusInt(*rs, "availableReplicas") == want;
}

namespace {
bool createdBefore(const json::value& a, const json::value& b) {
  std::string ta = stringAt(a, {"metadata", "creationTimestamp"});
  std::string tb = stringAt(b, {"metadata", "creationTimestamp"});
  if (ta == tb) return stringAt(a, {"metadata", "name"}) < stringAt(b, {"metadata", "name"});
  auto pa = parseTime(ta), pb = parseTime(tb);
  if (pa && pb) return *pa < *pb;
  return ta < tb;
}
}  // namespace

client::ObjectPtr findActiveOrLatest(const client::ObjectPtr& newRS, const RSList& oldRSs) {
  if (!newRS && oldRSs.empty()) return nullptr;
  RSList olds = oldRSs;
  std::sort(olds.begin(), olds.end(),
            [](const auto& a, const auto& b) { return createdBefore(*b, *a); });  // newest first
  RSList all = olds;
  all.push_back(newRS);
  RSList active = filterActive(all);
  if (active.empty()) return newRS ? newRS : olds.front();
  return active.size() == 1 ? active.front() : nullptr;
}

void sortByCreation(RSList& rss) {
  std::stable_sort(rss.begin(), rss.end(),
                   [](const auto& a, const auto& b) { return createdBefore(*a, *b); });
}

void sortBySizeNewer(RSList& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const auto& a, const auto& b) {
    if (specReplicas(*a) == specReplicas(*b)) return createdBefore(*b, *a);
    return specReplicas(*a) > specReplicas(*b);
  });
}

void sortBySizeOlder(RSList& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const auto& a, const auto& b) {
    if (specReplicas(*a) == specReplicas(*b)) return createdBefore(*a, *b);
    return specReplicas(*a) > specReplicas(*b);
  });
}

void sortByRevision(RSList& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const auto& a, const auto& b) {
    long long ra = revisionOf(*a).value_or(0), rb = revisionOf(*b).value_or(0);
    if (ra == rb) return createdBefore(*a, *b);
    return ra < rb;
  });
}

// ---- revisions and annotations ---------------------------------------------------------------

std::optional<long long> revisionOf(const json::value& obj) {
  if (!annotation(obj, kRevisionAnnotation)) return 0;
  return intAnnotation(obj, kRevisionAnnotation);
}

long long maxRevision(const RSList& rss) {
  long long max = 0;
  for (const auto& rs : rss)
    if (auto r = revisionOf(*rs); r && *r > max) max = *r;
  return max;
}

namespace {
bool skipCopyAnnotation(std::string_view key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevisionAnnotation ||
         key == kRevisionHistoryAnnotation || key == kDesiredReplicasAnnotation ||
         key == kMaxReplicasAnnotation || key == "deprecated.deployment.rollback.to";
}

json::object& annotationsOf(json::object& obj) {
  json::value& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  json::value& ann = meta.as_object()["annotations"];
  if (!ann.is_object()) ann = json::object();
  return ann.as_object();
}

bool setString(json::object& ann, std::string_view key, const std::string& value) {
  auto* cur = ann.if_contains(key);
  if (cur && cur->is_string() && cur->get_string() == value) return false;
  ann[key] = value;
  return true;
}
}  // namespace

bool setNewReplicaSetAnnotations(const json::value& d, json::object& rs, long long newRevision,
                                 bool exists) {
  json::object& ann = annotationsOf(rs);
  bool changed = false;
  if (const json::value* da = valueAt(d, {"metadata", "annotations"}); da && da->is_object()) {
    for (const auto& kv : da->get_object()) {
      if (skipCopyAnnotation(kv.key()) || !kv.value().is_string()) continue;
      changed |= setString(ann, kv.key(), std::string(kv.value().get_string()));
    }
  }
  std::optional<std::string> oldRevision;
  if (auto* v = ann.if_contains(kRevisionAnnotation); v && v->is_string())
    oldRevision = std::string(v->get_string());
  long long oldRev = 0;
  if (oldRevision) {
    auto [p, ec] =
        std::from_chars(oldRevision->data(), oldRevision->data() + oldRevision->size(), oldRev);
    if (ec != std::errc() || p != oldRevision->data() + oldRevision->size()) return false;
  }
  if (oldRev < newRevision) {
    ann[kRevisionAnnotation] = std::to_string(newRevision);
    changed = true;
    // A ReplicaSet that had a revision and gets a newer one is being rolled back to: remember
    // the revisions it served before.
    if (oldRevision) {
      std::string history;
      if (auto* h = ann.if_contains(kRevisionHistoryAnnotation); h && h->is_string())
        history = std::string(h->get_string());
      if (history.empty()) {
        ann[kRevisionHistoryAnnotation] = *oldRevision;
      } else {
        std::vector<std::string> parts;
        for (size_t start = 0;;) {
          size_t comma = history.find(',', start);
          parts.push_back(history.substr(start, comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        size_t total = history.size() + oldRevision->size() + 1, first = 0;
        while (total > kMaxRevisionHistoryChars && first < parts.size())
          total -= parts[first++].size() + 1;
        if (total <= kMaxRevisionHistoryChars) {
          std::string joined;
          for (size_t i = first; i < parts.size(); ++i) joined += parts[i] + ",";
          ann[kRevisionHistoryAnnotation] = joined + *oldRevision;
        }
      }
    }
  }
  if (!exists)
    changed |= setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d));
  return changed;
}

bool setReplicasAnnotations(json::object& rs, long long desired, long long max) {
  json::object& ann = annotationsOf(rs);
  bool changed = setString(ann, kDesiredReplicasAnnotation, std::to_string(desired));
  changed |= setString(ann, kMaxReplicasAnnotation, std::to_string(max));
  return changed;
}

bool replicasAnnotationsNeedUpdate(const json::value& rs, long long desired, long long max) {
  return annotation(rs, kDesiredReplicasAnnotation) != std::to_string(desired) ||
         annotation(rs, kMaxReplicasAnnotation) != std::to_string(max);
}

// ---- templates -------------------------------------------------------------------------------

namespace {
json::value withoutHash(const json::value& t) {
  json::value copy = t;
  if (auto* o = copy.if_object()) {
    if (auto* meta = o->if_contains("metadata"); meta && meta->is_object()) {
      auto& m = meta->as_object();
      if (auto* labels = m.if_contains("labels"); labels && labels->is_object()) {
        labels->as_object().erase(kPodTemplateHashLabel);
        if (labels->as_object().empty()) m.erase("labels");  // Go: nil and empty maps are equal
      }
    }
  }
  return copy;
}
}  // namespace

bool equalIgnoreHash(const json::value& t1, const json::value& t2) {
  return canonicalJson(withoutHash(t1)) == canonicalJson(withoutHash(t2));
}

client::ObjectPtr findNewReplicaSet(const json::value& d, RSList rsList) {
  sortByCreation(rsList);
  const json::value* tmpl = valueAt(d, {"spec", "template"});
  if (!tmpl) return nullptr;
  for (const auto& rs : rsList) {
    const json::value* t = valueAt(*rs, {"spec", "template"});
    // Several may match after an upgrade (kubernetes#40415): the oldest wins, deterministically.
    if (t && equalIgnoreHash(*t, *tmpl)) return rs;
  }
  return nullptr;
}

RSList findOldReplicaSets(const json::value& d, const RSList& rsList) {
  client::ObjectPtr newRS = findNewReplicaSet(d, rsList);
  RSList out;
  for (const auto& rs : rsList)
    if (!newRS || uidOf(*rs) != uidOf(*newRS)) out.push_back(rs);
  return out;
}

}  // namespace berth::controllers::deployment
