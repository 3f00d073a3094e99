#include "controllers/framework/workload_util.h"

#include <cmath>
#include <cstdint>
#include <ctime>

namespace berth::controllers::workload {

namespace json = boost::json;

const json::object& emptyObject() {
  static const json::object kEmpty;
  return kEmpty;
}

const json::object& objAt(const json::value& v, std::string_view a, std::string_view b,
                          std::string_view c) {
  const json::value* cur = &v;
  for (std::string_view k : {a, b, c}) {
    if (k.empty()) break;
    const json::object* o = cur->if_object();
    if (!o) return emptyObject();
    cur = o->if_contains(k);
    if (!cur) return emptyObject();
  }
  const json::object* o = cur->if_object();
  return o ? *o : emptyObject();
}

const json::object& objAt(const json::object& o, std::string_view a, std::string_view b,
                          std::string_view c) {
  const json::value* first = o.if_contains(a);
  if (!first) return emptyObject();
  if (b.empty()) return first->is_object() ? first->get_object() : emptyObject();
  return objAt(*first, b, c);
}

std::string strAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<long long> intAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<long long>(v->get_uint64());
  if (v->is_double()) return static_cast<long long>(v->get_double());
  return std::nullopt;
}

std::optional<bool> boolAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_bool()) return v->get_bool();
  return std::nullopt;
}

const json::object& metaOf(const json::value& obj) { return objAt(obj, "metadata"); }
const json::object& specOf(const json::value& obj) { return objAt(obj, "spec"); }
const json::object& statusOf(const json::value& obj) { return objAt(obj, "status"); }
std::string uidOf(const json::value& obj) { return strAt(metaOf(obj), "uid"); }
bool isBeingDeleted(const json::value& obj) {
  const json::value* v = metaOf(obj).if_contains("deletionTimestamp");
  return v && !v->is_null();
}

std::optional<SystemTime> parseTime(std::string_view s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(19);
  double frac = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    double scale = 0.1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    rest = rest.substr(i);
  }
  long offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = (oh * 3600L + om * 60L) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = ::timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(t - offset);
  return tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::duration<double>(frac));
}

std::string formatTime(SystemTime t) {
  time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const json::object* controllerRefOf(const json::value& obj) {
  const json::value* refs = metaOf(obj).if_contains("ownerReferences");
  if (!refs || !refs->is_array()) return nullptr;
  for (const json::value& r : refs->get_array()) {
    const json::object* o = r.if_object();
    if (o && boolAt(*o, "controller").value_or(false)) return o;
  }
  return nullptr;
}

json::object newControllerRef(const json::value& owner, std::string_view apiVersion,
                              std::string_view kind) {
  return json::object{
      {"apiVersion", apiVersion}, {"kind", kind},       {"name", strAt(metaOf(owner), "name")},
      {"uid", uidOf(owner)},      {"controller", true}, {"blockOwnerDeletion", true}};
}

core::Result<core::LabelSelector> specSelector(const json::value& obj) {
  const json::value* sel = specOf(obj).if_contains("selector");
  if (!sel || !sel->is_object()) return core::LabelSelector();
  return core::LabelSelector::fromJson(sel->get_object());
}

std::string podPhase(const json::value& pod) { return strAt(statusOf(pod), "phase"); }

namespace {
const json::object* readyCondition(const json::value& pod) {
  const json::value* conds = statusOf(pod).if_contains("conditions");
  if (!conds || !conds->is_array()) return nullptr;
  for (const json::value& c : conds->get_array()) {
    const json::object* o = c.if_object();
    if (o && strAt(*o, "type") == "Ready") return o;
  }
  return nullptr;
}
}  // namespace

bool isPodReady(const json::value& pod) {
  const json::object* c = readyCondition(pod);
  return c && strAt(*c, "status") == "True";
}

bool isPodAvailable(const json::value& pod, long long minReadySeconds, SystemTime now) {
  const json::object* c = readyCondition(pod);
  if (!c || strAt(*c, "status") != "True") return false;
  if (minReadySeconds == 0) return true;
  auto since = parseTime(strAt(*c, "lastTransitionTime"));
  return since && *since + std::chrono::seconds(minReadySeconds) <= now;
}

bool isPodTerminal(const json::value& pod) {
  std::string phase = podPhase(pod);
  return phase == "Succeeded" || phase == "Failed";
}

bool isPodActive(const json::value& pod) { return !isPodTerminal(pod) && !isBeingDeleted(pod); }

json::object podFromTemplate(const json::object& tmpl, std::string_view ns,
                             std::string_view generateNamePrefix,
                             const json::object& controllerRef) {
  json::object meta;
  const json::object& tmeta = objAt(tmpl, "metadata");
  for (const char* f : {"labels", "annotations", "finalizers"}) {
    if (const json::value* v = tmeta.if_contains(f); v && !v->is_null()) meta[f] = *v;
  }
  meta["generateName"] = generateNamePrefix;
  meta["namespace"] = ns;
  meta["ownerReferences"] = json::array{controllerRef};
  json::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
  pod["spec"] = objAt(tmpl, "spec");
  return pod;
}

namespace {
constexpr const char* kControllerUidIndex = "berth.workloads/controller-uid";
// Not a uid (uids have no spaces), so it cannot collide with one.
const std::string kOrphanPrefix = "orphan in ";
}

void addControllerUidIndex(client::SharedInformer& informer) {
  // Conflict = already added by another controller sharing the informer; same function.
  (void)informer.addIndexers({{kControllerUidIndex, [](const json::value& obj) {
                                 std::vector<std::string> out;
                                 if (const json::object* ref = controllerRefOf(obj)) {
                                   out.push_back(strAt(*ref, "uid"));
                                 } else {
                                   // Orphans by namespace, as upstream's orphanPodIndexKey: the
                                   // candidates for adoption.
                                   out.push_back(kOrphanPrefix + strAt(metaOf(obj), "namespace"));
                                 }
                                 return out;
                               }}});
}

std::vector<client::ObjectPtr> controlledBy(const client::SharedInformer& informer,
                                            const std::string& uid) {
  auto r = informer.indexer().byIndex(kControllerUidIndex, uid);
  return r.ok() ? std::move(r).value() : std::vector<client::ObjectPtr>{};
}

std::vector<client::ObjectPtr> ownedAndOrphans(const client::SharedInformer& informer,
                                               const std::string& ns, const std::string& uid) {
  std::vector<client::ObjectPtr> out = controlledBy(informer, uid);
  auto r = informer.indexer().byIndex(kControllerUidIndex, kOrphanPrefix + ns);
  if (r.ok()) out.insert(out.end(), r->begin(), r->end());
  return out;
}

core::Result<long long> scaledValue(const json::value* v, long long total, bool roundUp) {
  if (!v || v->is_null()) return 0LL;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<long long>(v->get_uint64());
  if (!v->is_string()) return core::Status::badRequest("invalid value for IntOrString");
  std::string s(v->get_string());
  if (s.empty() || s.back() != '%') {
    return core::Status::badRequest(
        "invalid value for IntOrString: invalid type: string is not a "
        "percentage");
  }
  char* end = nullptr;
  long long pct = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() - 1) {
    return core::Status::badRequest("invalid value \"" + s + "\": invalid percentage");
  }
  double scaled = static_cast<double>(pct) * static_cast<double>(total) / 100.0;
  return static_cast<long long>(roundUp ? std::ceil(scaled) : std::floor(scaled));
}

}  // namespace berth::controllers::workload
