// LimitRanger (upstream plugin/pkg/admission/limitranger): the namespace's LimitRanges give
// containers of a created pod their default limits and requests (recorded in the
// kubernetes.io/limit-ranger annotation), then bound them: min, max and maxLimitRequestRatio per
// Container and per Pod, min and max storage per PersistentVolumeClaim. A violation is 403 with
// upstream's texts (`maximum cpu usage per Container is 1, but limit is 2`). Pod updates are
// not checked (their resources cannot change), as upstream.
#include <algorithm>
#include <cstdio>
#include <map>

#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"
#include "core/quantity.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

using Resources = std::map<std::string, std::string>;  // name → quantity as written

Resources resourcesOf(const json::object* o) {
  Resources r;
  if (!o) return r;
  for (const auto& [k, v] : *o)
    if (v.is_string()) r[std::string(k)] = std::string(v.as_string());
  return r;
}

// A quantity exactly (core::Quantity), zero when malformed (validation rejects those first).
core::Quantity value(const std::string& q) { return core::Quantity::parse(q).value_or(core::Quantity()); }

std::string minConstraint(const std::string& type, const std::string& res,
                          const std::string& enforced, const Resources& req,
                          const Resources& lim) {
  auto r = req.find(res);
  auto l = lim.find(res);
  if (r == req.end())
    return "minimum " + res + " usage per " + type + " is " + enforced + ".  No request is specified";
  if (value(r->second) < value(enforced))
    return "minimum " + res + " usage per " + type + " is " + enforced + ", but request is " + r->second;
  if (l != lim.end() && value(l->second) < value(enforced))
    return "minimum " + res + " usage per " + type + " is " + enforced + ", but limit is " + l->second;
  return "";
}

std::string maxConstraint(const std::string& type, const std::string& res,
                          const std::string& enforced, const Resources& req,
                          const Resources& lim) {
  auto r = req.find(res);
  auto l = lim.find(res);
  if (l == lim.end())
    return "maximum " + res + " usage per " + type + " is " + enforced + ".  No limit is specified";
  if (value(l->second) > value(enforced))
    return "maximum " + res + " usage per " + type + " is " + enforced + ", but limit is " + l->second;
  if (r != req.end() && value(r->second) > value(enforced))
    return "maximum " + res + " usage per " + type + " is " + enforced + ", but request is " + r->second;
  return "";
}

std::string maxRequestConstraint(const std::string& type, const std::string& res,
                                 const std::string& enforced, const Resources& req) {
  auto r = req.find(res);
  if (r == req.end())
    return "maximum " + res + " usage per " + type + " is " + enforced + ".  No request is specified";
  if (value(r->second) > value(enforced))
    return "maximum " + res + " usage per " + type + " is " + enforced + ", but request is " + r->second;
  return "";
}

std::string ratioConstraint(const std::string& type, const std::string& res,
                            const std::string& enforced, const Resources& req,
                            const Resources& lim) {
  auto r = req.find(res);
  auto l = lim.find(res);
  std::string head = res + " max limit to request ratio per " + type + " is " + enforced;
  if (r == req.end() || value(r->second).isZero())
    return head + ", but no request is specified or request is 0";
  if (l == lim.end() || value(l->second).isZero())
    return head + ", but no limit is specified or limit is 0";
  long double ratio = value(l->second).approx() / value(r->second).approx();
  if (ratio > value(enforced).approx()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%f", static_cast<double>(ratio));  // Go's %f
    return head + ", but provided ratio is " + buf;
  }
  return "";
}

struct Item {
  std::string type;
  Resources min, max, ratio, def, defRequest;
};

std::vector<Item> itemsOf(const std::vector<ObjectRef>& ranges) {
  std::vector<Item> out;
  for (const auto& lr : ranges) {
    const auto* spec = objectField(*lr, "spec");
    const auto* limits = spec ? arrayField(*spec, "limits") : nullptr;
    if (!limits) continue;
    for (const auto& iv : *limits) {
      if (!iv.is_object()) continue;
      const auto& o = iv.as_object();
      out.push_back({stringField(o, "type"), resourcesOf(objectField(o, "min")),
                     resourcesOf(objectField(o, "max")),
                     resourcesOf(objectField(o, "maxLimitRequestRatio")),
                     resourcesOf(objectField(o, "default")),
                     resourcesOf(objectField(o, "defaultRequest"))});
    }
  }
  return out;
}

void checkBounds(const Item& item, const std::string& type, const Resources& req,
                 const Resources& lim, std::vector<std::string>& errs) {
  auto add = [&](std::string e) {
    if (!e.empty()) errs.push_back(std::move(e));
  };
  for (const auto& [k, v] : item.min) add(minConstraint(type, k, v, req, lim));
  for (const auto& [k, v] : item.max) add(maxConstraint(type, k, v, req, lim));
  for (const auto& [k, v] : item.ratio) add(ratioConstraint(type, k, v, req, lim));
}

Resources containerList(const json::object& c, const char* which) {
  const auto* res = objectField(c, "resources");
  return resourcesOf(res ? objectField(*res, which) : nullptr);
}

// A pod's requests or limits: the sum over its containers, or the largest init container's if
// more (init containers run one at a time, before the others).
Resources podTotals(const json::object& spec, const char* which) {
  std::map<std::string, core::Quantity> sum, initMax;
  if (const auto* cs = arrayField(spec, "containers")) {
    for (const auto& c : *cs)
      if (c.is_object())
        for (const auto& [k, v] : containerList(c.as_object(), which)) sum[k] += value(v);
  }
  if (const auto* cs = arrayField(spec, "initContainers")) {
    for (const auto& c : *cs)
      if (c.is_object())
        for (const auto& [k, v] : containerList(c.as_object(), which))
          initMax[k] = std::max(initMax[k], value(v));
  }
  for (const auto& [k, v] : initMax) sum[k] = std::max(sum[k], v);
  Resources out;
  for (const auto& [k, v] : sum) out[k] = v.toString();
  return out;
}

std::string aggregate(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  std::string out = "[";
  for (size_t i = 0; i < errs.size(); ++i) out += (i ? ", " : "") + errs[i];
  return out + "]";
}

class LimitRanger : public Plugin {
 public:
  explicit LimitRanger(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "LimitRanger"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !a.object || !isResource(a, "", "pods")) return {};
    auto items = itemsOf(limitRanges(a.ns));
    std::vector<std::string> notes;
    for (const auto& item : items) {
      if (item.type != "Container" || (item.def.empty() && item.defRequest.empty())) continue;
      auto& spec = ensureObject(*a.object, "spec");
      for (auto [key, prefix] : {std::pair{"containers", "container"},
                                 std::pair{"initContainers", "init container"}}) {
        auto* cs = spec.if_contains(key);
        if (!cs || !cs->is_array()) continue;
        for (auto& cv : cs->as_array()) {
          if (cv.is_object()) mergeDefaults(cv.as_object(), item, prefix, notes);
        }
      }
    }
    if (!notes.empty()) {
      std::string val = "LimitRanger plugin set: ";
      for (size_t i = 0; i < notes.size(); ++i) val += (i ? "; " : "") + notes[i];
      ensureObject(ensureObject(*a.object, "metadata"), "annotations")["kubernetes.io/limit-ranger"] =
          val;
    }
    return {};
  }

  core::Status validate(const Attributes& a) override {
    if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return {};
    if (!a.object || !a.subresource.empty() || !a.resource->group.empty()) return {};
    bool pod = a.resource->plural == "pods", pvc = a.resource->plural == "persistentvolumeclaims";
    if (!(pod && a.operation == Operation::kCreate) && !pvc) return {};
    const auto* spec = objectField(*a.object, "spec");
    if (!spec) return {};
    for (const auto& item : itemsOf(limitRanges(a.ns))) {
      std::vector<std::string> errs;
      if (pod && item.type == "Container") {
        for (const char* key : {"initContainers", "containers"}) {
          if (const auto* cs = arrayField(*spec, key)) {
            for (const auto& c : *cs) {
              if (!c.is_object()) continue;
              checkBounds(item, "Container", containerList(c.as_object(), "requests"),
                          containerList(c.as_object(), "limits"), errs);
            }
          }
        }
      } else if (pod && item.type == "Pod") {
        checkBounds(item, "Pod", podTotals(*spec, "requests"), podTotals(*spec, "limits"), errs);
      } else if (pvc && item.type == "PersistentVolumeClaim") {
        const auto* res = objectField(*spec, "resources");
        Resources req = resourcesOf(res ? objectField(*res, "requests") : nullptr);
        for (const auto& [k, v] : item.min) {
          if (auto e = minConstraint("PersistentVolumeClaim", k, v, req, {}); !e.empty())
            errs.push_back(e);
        }
        for (const auto& [k, v] : item.max) {
          if (auto e = maxRequestConstraint("PersistentVolumeClaim", k, v, req); !e.empty())
            errs.push_back(e);
        }
      }
      if (!errs.empty()) return forbidden(a, aggregate(errs));
    }
    return {};
  }

 private:
  std::vector<ObjectRef> limitRanges(const std::string& ns) const {
    static const auto* rt = core::findResource("", "v1", "limitranges");
    return reader_.list(*rt, ns);
  }

  static void mergeDefaults(json::object& c, const Item& item, const std::string& prefix,
                            std::vector<std::string>& notes) {
    std::string name = stringField(c, "name");
    auto fill = [&](const Resources& defaults, const char* which) {
      std::vector<std::string> set;
      if (defaults.empty()) return set;
      auto& res = ensureObject(c, "resources");
      auto& list = ensureObject(res, which);
      for (const auto& [k, v] : defaults) {
        if (!list.contains(k)) {
          list[k] = v;
          set.push_back(k);
        }
      }
      if (list.empty()) res.erase(which);
      return set;
    };
    auto limits = fill(item.def, "limits");
    auto requests = fill(item.defRequest, "requests");
    auto note = [&](const std::vector<std::string>& set, const char* what) {
      if (set.empty()) return;
      std::string s;
      for (size_t i = 0; i < set.size(); ++i) s += (i ? ", " : "") + set[i];
      notes.push_back(s + " " + what + " for " + prefix + " " + name);
    };
    note(requests, "request");
    note(limits, "limit");
  }

  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newLimitRanger(const ObjectReader& reader) {
  return std::make_unique<LimitRanger>(reader);
}

}  // namespace berth::apiserver::admission
