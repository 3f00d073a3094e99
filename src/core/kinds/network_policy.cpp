// networking.k8s.io/v1 NetworkPolicy: defaults and validation after upstream
// pkg/apis/networking/v1/defaults.go and pkg/apis/networking/validation (ports, peers, ipBlock,
// policyTypes). The policy itself is enforced on each node by src/netpol.
#include "core/ipv4_cidr.h"
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

void defaultPorts(json::object& rule) {
  if (json::array* ports = getArrMut(rule, "ports"))
    for (auto& p : *ports)
      if (auto* port = p.if_object()) setDefault(*port, "protocol", "TCP");
}

void networkPolicyDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "podSelector", json::object{});
  for (const char* dir : {"ingress", "egress"})
    if (json::array* rules = getArrMut(spec, dir))
      for (auto& r : *rules)
        if (auto* rule = r.if_object()) defaultPorts(*rule);
  const json::array* types = getArr(spec, "policyTypes");
  if (types == nullptr || types->empty()) {
    json::array t{"Ingress"};
    const json::array* egress = getArr(spec, "egress");
    if (egress != nullptr && !egress->empty()) t.push_back("Egress");
    spec["policyTypes"] = std::move(t);
  }
}

void validatePort(const json::object& port, const std::string& path, FieldErrors& errs) {
  std::string_view proto = getStr(port, "protocol");
  if (proto != "TCP" && proto != "UDP" && proto != "SCTP")
    addNotSupported(errs, child(path, "protocol"), goQuote(proto), {"SCTP", "TCP", "UDP"});
  const json::value* p = getVal(port, "port");
  std::optional<int64_t> end = getInt(port, "endPort");
  if (p != nullptr && p->is_int64()) {
    for (const auto& m : isValidPortNum(p->as_int64()))
      addInvalidInt(errs, child(path, "port"), p->as_int64(), m);
    if (end) {
      if (*end < p->as_int64())
        addInvalidInt(errs, child(path, "endPort"), *end,
                      "must be greater than or equal to `port`");
      for (const auto& m : isValidPortNum(*end))
        addInvalidInt(errs, child(path, "endPort"), *end, m);
    }
  } else if (p != nullptr && p->is_string()) {
    for (const auto& m : isValidPortName(p->as_string()))
      addInvalidStr(errs, child(path, "port"), p->as_string(), m);
    if (end)
      addInvalidInt(errs, child(path, "endPort"), *end,
                    "may not be specified when `port` is non-numeric");
  } else if (end) {
    addInvalidInt(errs, child(path, "endPort"), *end,
                  "may not be specified when `port` is not specified");
  }
}

void validateCidr(std::string_view cidr, const std::string& path, FieldErrors& errs) {
  if (cidr.find(':') != std::string_view::npos) return;  // IPv6: not enforced, accepted as given
  if (!parseIpv4Cidr(cidr).ok())
    addInvalidStr(errs, path, cidr,
                  "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
}

void validateIpBlock(const json::object& block, const std::string& path, FieldErrors& errs) {
  std::string_view cidr = getStr(block, "cidr");
  if (cidr.empty()) {
    addRequired(errs, child(path, "cidr"));
    return;
  }
  validateCidr(cidr, child(path, "cidr"), errs);
  auto outer = parseIpv4Cidr(cidr);
  const json::array* except = getArr(block, "except");
  for (size_t i = 0; except && i < except->size(); ++i) {
    std::string p = index(child(path, "except"), i);
    const auto* s = (*except)[i].if_string();
    std::string_view e = s ? std::string_view(*s) : std::string_view();
    validateCidr(e, p, errs);
    auto inner = parseIpv4Cidr(e);
    if (outer.ok() && inner.ok() &&
        (inner->prefix <= outer->prefix || !outer->contains(inner->base)))
      addInvalidStr(errs, p, e, "must be a strict subset of `cidr`");
  }
}

void validatePeer(const json::object& peer, const std::string& path, FieldErrors& errs) {
  int selectors = 0;
  if (const auto* s = getObj(peer, "podSelector")) {
    validateLabelSelector(*s, child(path, "podSelector"), errs);
    ++selectors;
  }
  if (const auto* s = getObj(peer, "namespaceSelector")) {
    validateLabelSelector(*s, child(path, "namespaceSelector"), errs);
    ++selectors;
  }
  const auto* block = getObj(peer, "ipBlock");
  if (block != nullptr) validateIpBlock(*block, child(path, "ipBlock"), errs);
  if (selectors == 0 && block == nullptr)
    addRequired(errs, path, "must specify a peer");
  else if (selectors > 0 && block != nullptr)
    addForbidden(errs, path, "may not specify both ipBlock and another peer");
}

void validateRules(const json::object& spec, const char* dir, const char* peers,
                   FieldErrors& errs) {
  const json::array* rules = getArr(spec, dir);
  for (size_t i = 0; rules && i < rules->size(); ++i) {
    const json::object* rule = (*rules)[i].if_object();
    if (rule == nullptr) continue;
    std::string path = index(child("spec", dir), i);
    if (const json::array* ports = getArr(*rule, "ports"))
      for (size_t j = 0; j < ports->size(); ++j)
        if (const auto* port = (*ports)[j].if_object())
          validatePort(*port, index(child(path, "ports"), j), errs);
    if (const json::array* list = getArr(*rule, peers))
      for (size_t j = 0; j < list->size(); ++j)
        if (const auto* peer = (*list)[j].if_object())
          validatePeer(*peer, index(child(path, peers), j), errs);
  }
}

void networkPolicyValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* specp = getObj(obj, "spec");
  json::object empty;
  const json::object& spec = specp ? *specp : empty;
  if (const auto* s = getObj(spec, "podSelector"))
    validateLabelSelector(*s, "spec.podSelector", errs);
  validateRules(spec, "ingress", "from", errs);
  validateRules(spec, "egress", "to", errs);
  const json::array* types = getArr(spec, "policyTypes");
  if (types != nullptr && types->size() > 2)
    addInvalid(errs, "spec.policyTypes", formatValue(*types),
               "may not specify more than two policyTypes");
  for (size_t i = 0; types && i < types->size(); ++i) {
    const auto* t = (*types)[i].if_string();
    if (t == nullptr || (*t != "Ingress" && *t != "Egress"))
      addNotSupported(errs, index("spec.policyTypes", i), formatValue((*types)[i]),
                      {"Egress", "Ingress"});
  }
}

}  // namespace

const KindOps* networkPolicyOps() {
  static const KindOps ops = [] {
    KindOps o;
    o.defaults = networkPolicyDefaults;
    o.validate = networkPolicyValidate;
    return o;
  }();
  return &ops;
}

}  // namespace berth::core::kinds::detail
