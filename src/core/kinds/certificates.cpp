// certificates.k8s.io/v1 CertificateSigningRequest: validation essentials of upstream
// pkg/apis/certificates/validation (1.32) and the three write paths of
// pkg/registry/certificates/certificates/strategy.go: the main resource (spec fixed at creation,
// status untouched), /status (issuance: everything but the approval conditions) and /approval
// (only status.conditions).
#include "core/clock.h"
#include "core/kinds/internal.h"
#include "core/kinds/more_kinds.h"

namespace berth::core::kinds::detail {
namespace {

const std::vector<std::string> kUsages = {"any",
                                          "cert sign",
                                          "client auth",
                                          "code signing",
                                          "content commitment",
                                          "crl sign",
                                          "data encipherment",
                                          "decipher only",
                                          "digital signature",
                                          "email protection",
                                          "encipher only",
                                          "ipsec end system",
                                          "ipsec tunnel",
                                          "ipsec user",
                                          "key agreement",
                                          "key encipherment",
                                          "microsoft sgc",
                                          "netscape sgc",
                                          "ocsp signing",
                                          "s/mime",
                                          "server auth",
                                          "signing",
                                          "timestamping"};

bool isApprovalCondition(const json::value& c) {
  if (!c.is_object()) return false;
  std::string_view t = getStr(c.get_object(), "type");
  return t == "Approved" || t == "Denied";
}

// A PEM block of `type` in base64-encoded bytes (how []byte fields travel in JSON).
bool hasPemBlock(std::string_view b64, std::string_view type) {
  auto raw = base64Decode(b64);
  if (!raw) return false;
  std::string begin = "-----BEGIN " + std::string(type) + "-----";
  std::string end = "-----END " + std::string(type) + "-----";
  auto b = raw->find(begin);
  return b != std::string::npos && raw->find(end, b) != std::string::npos;
}

void validateSignerName(std::string_view signer, FieldErrors& errs) {
  const std::string path = "spec.signerName";
  if (signer.empty()) {
    addRequired(errs, path);
    return;
  }
  auto slash = signer.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == signer.size()) {
    addInvalidStr(errs, path, signer,
                  "must be a fully qualified domain and path of the form "
                  "'example.com/signer-name'");
    return;
  }
  for (const auto& m : isDns1123Subdomain(signer.substr(0, slash))) {
    addInvalidStr(errs, path, signer, m);
  }
  if (signer == "kubernetes.io/legacy-unknown") {
    addInvalidStr(errs, path, signer, "the legacy signerName is not allowed via this API version");
  }
}

void validateConditions(const json::object& obj, FieldErrors& errs) {
  const json::object* status = getObj(obj, "status");
  const json::array* conds = status ? getArr(*status, "conditions") : nullptr;
  std::vector<std::string_view> seen;
  for (size_t i = 0; conds && i < conds->size(); ++i) {
    const json::object* c = (*conds)[i].if_object();
    if (c == nullptr) continue;
    std::string p = index("status.conditions", i);
    std::string_view type = getStr(*c, "type");
    std::string_view st = getStr(*c, "status");
    if (type.empty()) addRequired(errs, child(p, "type"));
    if (st.empty()) {
      addRequired(errs, child(p, "status"));
    } else if (st != "True" && st != "False" && st != "Unknown") {
      addNotSupported(errs, child(p, "status"), goQuote(st), {"False", "True", "Unknown"});
    }
    if ((type == "Approved" || type == "Denied" || type == "Failed") && !st.empty() &&
        st != "True") {
      addNotSupported(errs, child(p, "status"), goQuote(st), {"True"});
    }
    if (std::find(seen.begin(), seen.end(), type) != seen.end() &&
        (type == "Approved" || type == "Denied" || type == "Failed")) {
      addDuplicate(errs, child(p, "type"), goQuote(type));
    }
    seen.push_back(type);
  }
  bool approved = std::find(seen.begin(), seen.end(), "Approved") != seen.end();
  bool denied = std::find(seen.begin(), seen.end(), "Denied") != seen.end();
  if (approved && denied) {
    addInvalid(errs, "status.conditions", formatValue(json::value(*conds)),
               "Approved and Denied conditions are mutually exclusive");
  }
  if (status != nullptr && hasStr(*status, "certificate") &&
      !getStr(*status, "certificate").empty()) {
    if (!approved) {
      addInvalid(errs, "status.certificate", "[]byte{...}",
                 "certificate may only be set if the Approved condition is present");
    } else if (!hasPemBlock(getStr(*status, "certificate"), "CERTIFICATE")) {
      addInvalid(errs, "status.certificate", "[]byte{...}",
                 "must contain at least one CERTIFICATE PEM block");
    }
  }
}

void csrValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  std::string_view request = getStr(spec, "request");
  if (request.empty()) {
    addRequired(errs, "spec.request");
  } else if (!hasPemBlock(request, "CERTIFICATE REQUEST")) {
    addInvalid(errs, "spec.request", "[]byte{...}", "PEM block type must be CERTIFICATE REQUEST");
  }
  validateSignerName(getStr(spec, "signerName"), errs);
  const json::array* usages = getArr(spec, "usages");
  if (usages == nullptr || usages->empty()) {
    addRequired(errs, "spec.usages", "usages must be provided");
  }
  std::vector<std::string_view> seen;
  for (size_t i = 0; usages && i < usages->size(); ++i) {
    std::string_view u =
        (*usages)[i].is_string() ? std::string_view((*usages)[i].get_string()) : "";
    if (std::find(kUsages.begin(), kUsages.end(), u) == kUsages.end()) {
      addNotSupported(errs, index("spec.usages", i), goQuote(u), kUsages);
    } else if (std::find(seen.begin(), seen.end(), u) != seen.end()) {
      addDuplicate(errs, index("spec.usages", i), goQuote(u));
    }
    seen.push_back(u);
  }
  if (auto secs = getInt(spec, "expirationSeconds"); secs && *secs < 600) {
    addInvalidInt(errs, "spec.expirationSeconds", *secs,
                  "may not specify a duration less than 600 seconds (10 minutes)");
  }
  validateConditions(obj, errs);
}

void csrValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  // Once approved or denied, a request stays so.
  const json::object* oldStatus = getObj(old, "status");
  const json::array* oldConds = oldStatus ? getArr(*oldStatus, "conditions") : nullptr;
  const json::object* status = getObj(obj, "status");
  const json::array* conds = status ? getArr(*status, "conditions") : nullptr;
  for (size_t i = 0; oldConds && i < oldConds->size(); ++i) {
    if (!isApprovalCondition((*oldConds)[i])) continue;
    std::string_view type = getStr((*oldConds)[i].get_object(), "type");
    bool kept = false;
    for (size_t j = 0; conds && j < conds->size() && !kept; ++j) {
      kept = (*conds)[j].is_object() && getStr((*conds)[j].get_object(), "type") == type;
    }
    if (!kept) {
      addForbidden(errs, "status.conditions",
                   "updates may not remove a condition of type " + goQuote(type));
    }
  }
}

void stampConditions(json::object& obj, const json::object& old) {
  json::array* conds = getArrMut(ensureObj(obj, "status"), "conditions");
  if (conds == nullptr) return;
  const json::object* oldStatus = getObj(old, "status");
  const json::array* oldConds = oldStatus ? getArr(*oldStatus, "conditions") : nullptr;
  std::string now = core::nowRfc3339();
  for (auto& v : *conds) {
    if (!v.is_object()) continue;
    json::object& c = v.get_object();
    if (!has(c, "lastUpdateTime")) c["lastUpdateTime"] = now;
    if (has(c, "lastTransitionTime")) continue;
    // A condition that kept its status keeps its transition time.
    const json::value* before = nullptr;
    for (size_t i = 0; oldConds && i < oldConds->size() && !before; ++i) {
      const json::object* o = (*oldConds)[i].if_object();
      if (o && getStr(*o, "type") == getStr(c, "type") &&
          getStr(*o, "status") == getStr(c, "status"))
        before = getVal(*o, "lastTransitionTime");
    }
    c["lastTransitionTime"] = before != nullptr ? *before : json::value(now);
  }
}

void csrRecordRequester(json::object& obj, const Requester& user) {
  json::object& spec = ensureObj(obj, "spec");
  for (const char* f : {"username", "uid", "groups", "extra"}) spec.erase(f);
  if (!user.name.empty()) spec["username"] = user.name;
  if (!user.groups.empty()) {
    json::array groups;
    for (const auto& g : user.groups) groups.push_back(json::string(g));
    spec["groups"] = std::move(groups);
  }
}

void csrPrepareUpdate(json::object& obj, const json::object& old) {
  // The main resource cannot change the request (the generic path already kept status).
  if (const json::value* spec = getVal(old, "spec")) obj["spec"] = *spec;
}

void csrPrepareStatusUpdate(json::object& obj, const json::object& old) {
  // Issuance may not approve or deny: approval conditions come from the stored object.
  json::object& status = ensureObj(obj, "status");
  json::array conds;
  if (const json::array* now = getArr(status, "conditions")) {
    for (const auto& c : *now)
      if (!isApprovalCondition(c)) conds.push_back(c);
  }
  const json::object* oldStatus = getObj(old, "status");
  if (const json::array* before = oldStatus ? getArr(*oldStatus, "conditions") : nullptr) {
    for (const auto& c : *before)
      if (isApprovalCondition(c)) conds.push_back(c);
  }
  if (conds.empty()) {
    status.erase("conditions");
  } else {
    status["conditions"] = std::move(conds);
  }
  stampConditions(obj, old);
}

void csrPrepareApproval(std::string_view subresource, json::object& obj, const json::object& old) {
  if (subresource != "approval") return;
  json::value conditions;
  if (const json::object* status = getObj(obj, "status")) {
    if (const json::value* c = getVal(*status, "conditions")) conditions = *c;
  }
  json::value rv;
  if (const json::object* meta = getObj(obj, "metadata")) {
    if (const json::value* v = getVal(*meta, "resourceVersion")) rv = *v;
  }
  obj = old;
  if (!rv.is_null()) ensureObj(obj, "metadata")["resourceVersion"] = rv;
  json::object& status = ensureObj(obj, "status");
  if (conditions.is_null()) {
    status.erase("conditions");
  } else {
    status["conditions"] = std::move(conditions);
  }
  stampConditions(obj, old);
}

}  // namespace

const KindOps* certificatesOps(std::string_view group, std::string_view kind) {
  static const KindOps csr = [] {
    KindOps o;
    o.nameFn = validatePathSegmentName;  // upstream does not constrain CSR names further
    o.validate = csrValidate;
    o.validateUpdate = csrValidateUpdate;
    o.prepareUpdate = csrPrepareUpdate;
    o.recordRequester = csrRecordRequester;
    o.prepareStatusUpdate = csrPrepareStatusUpdate;
    o.prepareSubresource = csrPrepareApproval;
    return o;
  }();
  if (group == "certificates.k8s.io" && kind == "CertificateSigningRequest") return &csr;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
