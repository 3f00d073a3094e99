#include "apiserver/crd/names.h"

#include "apiserver/crd/custom_resource.h"
#include "core/resources.h"

namespace berth::apiserver::crd {
namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// upstream's equalToAcceptedOrFresh: empty when the name may be taken.
std::string conflict(const std::string& requested, const std::string& accepted,
                     const std::set<std::string>& used) {
  if (requested == accepted || used.count(requested) == 0) return "";
  return "\"" + requested + "\" is already in use";
}

}  // namespace

NamesDecision decideNames(const json::object& requested, const json::object& previous,
                          const UsedNames& used) {
  NamesDecision d;
  d.acceptedNames = previous;
  auto refuse = [&](const char* reason, std::string message) {
    d.reason = reason;
    d.message = std::move(message);
  };
  auto check = [&](const char* field, const char* reason, const std::set<std::string>& pool) {
    std::string want = str(requested, field);
    std::string err = conflict(want, str(previous, field), pool);
    if (!err.empty()) {
      refuse(reason, err);
    } else if (!want.empty()) {
      d.acceptedNames[field] = want;
    } else {
      d.acceptedNames.erase(field);
    }
  };
  check("plural", "PluralConflict", used.resources);
  check("singular", "SingularConflict", used.resources);
  // Short names: each new one must be free; all or none are taken over.
  std::set<std::string> had;
  if (const json::value* s = previous.if_contains("shortNames"); s && s->is_array()) {
    for (const auto& n : s->get_array())
      if (n.is_string()) had.emplace(n.get_string());
  }
  bool shortOk = true;
  const json::value* shorts = requested.if_contains("shortNames");
  if (shorts && shorts->is_array()) {
    for (const auto& n : shorts->get_array()) {
      if (!n.is_string() || had.count(std::string(n.get_string()))) continue;
      std::string err = conflict(std::string(n.get_string()), "", used.resources);
      if (!err.empty()) {
        refuse("ShortNamesConflict", err);
        shortOk = false;
      }
    }
  }
  if (shortOk) {
    if (shorts && shorts->is_array() && !shorts->get_array().empty()) {
      d.acceptedNames["shortNames"] = *shorts;
    } else {
      d.acceptedNames.erase("shortNames");
    }
  }
  check("kind", "KindConflict", used.kinds);
  check("listKind", "ListKindConflict", used.kinds);
  if (const json::value* c = requested.if_contains("categories")) {
    d.acceptedNames["categories"] = *c;
  } else {
    d.acceptedNames.erase("categories");
  }
  d.accepted = d.reason.empty();
  return d;
}

UsedNames usedNamesInGroup(const std::string& group, const std::string& self) {
  UsedNames used;
  std::string selfPrefix = "/registry/" + self + "/";
  for (const auto& rt : core::allResources()) {
    if (rt.group != group || rt.storagePrefix == selfPrefix) continue;
    // Only other CRDs count, as upstream's naming controller lists CRDs, not built-ins.
    if (dynamic_cast<const CustomResourceBehavior*>(rt.behavior.get()) == nullptr) continue;
    used.resources.insert(rt.plural);
    if (!rt.singular.empty()) used.resources.insert(rt.singular);
    used.resources.insert(rt.shortNames.begin(), rt.shortNames.end());
    used.kinds.insert(rt.kind);
    used.kinds.insert(rt.listKind());
  }
  return used;
}

}  // namespace berth::apiserver::crd
