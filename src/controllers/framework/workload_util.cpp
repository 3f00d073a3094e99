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

const json::object* controllerRefOf(const json::value& obj) {
  const json::value* refs = metaOf(obj).if_contains("ownerReferences");
  if (!refs || !refs->is_array()) return nullptr;
  for (const json::value& r : refs->get_array()) {
    const json::object* o = r.if_object();
    if (o && boolAt(*o, "controller").value_or(false)) return o;
  }
  return nullptr;
}

core::Result<core::LabelSelector> specSelector(const json::value& obj) {
  const json::value* sel = specOf(obj).if_contains("selector");
  if (!sel || !sel->is_object()) return core::LabelSelector();
  return core::LabelSelector::fromJson(sel->get_object());
}

std::string podPhase(const json::value& pod) { return strAt(statusOf(pod), "phase"); }

bool isPodTerminal(const json::value& pod) {
  std::string phase = podPhase(pod);
  return phase == "Succeeded" || phase == "Failed";
}

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
