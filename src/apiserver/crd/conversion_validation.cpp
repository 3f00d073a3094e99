// Validation of a CRD's spec.conversion, as upstream's validateCustomResourceConversion and the
// webhook helpers of k8s.io/apiserver/pkg/util/webhook/validation.go. Upstream validates the
// internal type, so its paths name spec.conversion.webhookClientConfig and
// spec.conversion.conversionReviewVersions even for a v1 CRD (whose fields live under
// spec.conversion.webhook).
#include <boost/json.hpp>

#include <set>

#include "apiserver/crd/conversion.h"
#include "core/base64.h"
#include "core/kinds/internal.h"

namespace berth::apiserver::crd {
namespace {

namespace json = boost::json;
using namespace core::kinds::detail;
using core::kinds::FieldErrors;

constexpr std::string_view kUrlForm = "; desired format: https://host[/path]";

void validateUrl(const std::string& path, std::string_view url, FieldErrors& errs) {
  std::string_view rest = url, scheme;
  if (auto s = url.find("://"); s != std::string_view::npos) {
    scheme = url.substr(0, s);
    rest = url.substr(s + 3);
  } else {
    rest = "";
  }
  std::string_view fragment, query;
  if (auto h = url.find('#'); h != std::string_view::npos) fragment = url.substr(h + 1);
  std::string_view beforeFragment = url.substr(0, url.find('#'));
  if (auto q = beforeFragment.find('?'); q != std::string_view::npos)
    query = beforeFragment.substr(q + 1);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view user, host = authority;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    user = authority.substr(0, at);
    host = authority.substr(at + 1);
  }
  if (scheme != "https")
    addInvalidStr(errs, path, scheme,
                  "'https' is the only allowed URL scheme" + std::string(kUrlForm));
  if (host.empty())
    addInvalidStr(errs, path, host, "host must be provided" + std::string(kUrlForm));
  if (authority.find('@') != std::string_view::npos)
    addInvalidStr(errs, path, user, "user information is not permitted in the URL");
  if (!fragment.empty())
    addInvalidStr(errs, path, fragment, "fragments are not permitted in the URL");
  if (!query.empty())
    addInvalidStr(errs, path, query, "query parameters are not permitted in the URL");
}

void validateService(const std::string& path, const json::object& svc, FieldErrors& errs) {
  if (getStr(svc, "name").empty()) addRequired(errs, path + ".name", "service name is required");
  if (getStr(svc, "namespace").empty())
    addRequired(errs, path + ".namespace", "service namespace is required");
  int64_t port = getInt(svc, "port").value_or(443);
  if (port < 1 || port > 65535)
    addInvalidInt(errs, path + ".port", port,
                  "port is not valid: must be between 1 and 65535, inclusive");
  if (!hasStr(svc, "path")) return;
  std::string p(getStr(svc, "path"));
  if (p.empty() || p == "/") return;
  if (p == "//") {
    addInvalidStr(errs, path + ".path", p, "segment[0] may not be empty");
    return;
  }
  if (p[0] != '/') addInvalidStr(errs, path + ".path", p, "must start with a '/'");
  std::string check = p.substr(1);
  if (!check.empty() && check.back() == '/') check.pop_back();
  size_t i = 0, start = 0;
  for (;;) {
    size_t end = check.find('/', start);
    std::string step = check.substr(start, end == std::string::npos ? end : end - start);
    if (step.empty()) {
      addInvalidStr(errs, path + ".path", p, "segment[" + std::to_string(i) + "] may not be empty");
    } else {
      for (const auto& m : core::kinds::isDns1123Subdomain(step))
        addInvalidStr(errs, path + ".path", p, "segment[" + std::to_string(i) + "]: " + m);
    }
    if (end == std::string::npos) break;
    start = end + 1;
    ++i;
  }
}

// Go's %#v of a []byte: []byte{0x2d, 0x2d, ...}.
std::string goBytes(std::string_view b) {
  std::string out = "[]byte{";
  char buf[8];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof buf, "0x%x", static_cast<unsigned char>(b[i]));
    out += (i ? ", " : "") + std::string(buf);
  }
  return out + "}";
}

bool accepted(std::string_view v) { return v == "v1" || v == "v1beta1"; }

std::vector<std::string> reviewVersionsOf(const json::object* conversion) {
  std::vector<std::string> out;
  const json::object* hook = conversion ? getObj(*conversion, "webhook") : nullptr;
  if (const json::array* a = hook ? getArr(*hook, "conversionReviewVersions") : nullptr) {
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.get_string());
  }
  return out;
}

void validateReviewVersions(const std::vector<std::string>& versions, bool requireRecognized,
                            FieldErrors& errs) {
  const std::string path = "spec.conversion.conversionReviewVersions";
  if (versions.empty()) {
    addRequired(errs, path);
    return;
  }
  std::set<std::string> seen;
  bool any = false;
  for (size_t i = 0; i < versions.size(); ++i) {
    const std::string& v = versions[i];
    if (!seen.insert(v).second) {
      addInvalidStr(errs, index(path, i), v, "duplicate version");
      continue;
    }
    for (const auto& m : core::kinds::isDns1035Label(v)) addInvalidStr(errs, index(path, i), v, m);
    any = any || accepted(v);
  }
  if (requireRecognized && !any) {
    std::string shown = "[]string{";
    for (size_t i = 0; i < versions.size(); ++i) shown += (i ? ", " : "") + goQuote(versions[i]);
    addInvalid(errs, path, shown + "}", "must include at least one of v1, v1beta1");
  }
}

}  // namespace

std::vector<core::StatusCause> validateConversion(const json::object& spec,
                                                  const json::object* oldSpec) {
  FieldErrors errs;
  const json::object* conv = getObj(spec, "conversion");
  if (conv == nullptr) return errs;
  std::string strategy(getStr(*conv, "strategy"));
  if (strategy.empty()) {
    addRequired(errs, "spec.conversion.strategy");
  } else if (strategy != "None" && strategy != "Webhook") {
    addNotSupported(errs, "spec.conversion.strategy", goQuote(strategy), {"None", "Webhook"});
  }
  if (!strategy.empty() && strategy != "None" &&
      getBool(spec, "preserveUnknownFields").value_or(false)) {
    addInvalidStr(errs, "spec.conversion.strategy", strategy,
                  "must be None if spec.preserveUnknownFields is true");
  }
  const json::object* hook = getObj(*conv, "webhook");
  const json::object* cc = hook ? getObj(*hook, "clientConfig") : nullptr;
  std::vector<std::string> versions = reviewVersionsOf(conv);
  const std::string ccPath = "spec.conversion.webhookClientConfig";
  if (strategy != "Webhook") {
    if (cc != nullptr)
      addForbidden(errs, ccPath, "should not be set when strategy is not set to Webhook");
    if (!versions.empty())
      addForbidden(errs, "spec.conversion.conversionReviewVersions",
                   "should not be set when strategy is not set to Webhook");
    return errs;
  }
  if (cc == nullptr) {
    addRequired(errs, ccPath, "required when strategy is set to Webhook");
  } else {
    bool hasUrl = hasStr(*cc, "url");
    const json::object* svc = getObj(*cc, "service");
    if (hasUrl == (svc != nullptr)) {
      addRequired(errs, ccPath, "exactly one of url or service is required");
    } else if (hasUrl) {
      validateUrl(ccPath + ".url", getStr(*cc, "url"), errs);
    } else {
      validateService(ccPath + ".service", *svc, errs);
    }
    if (std::string_view ca = getStr(*cc, "caBundle"); !ca.empty()) {
      auto pem = core::base64Decode(ca);
      if (!pem) {
        addInvalidStr(errs, ccPath + ".caBundle", ca, "illegal base64 data");
      } else if (!webhook::containsCertificates(*pem)) {
        addInvalid(errs, ccPath + ".caBundle", goBytes(*pem),
                   "data does not contain any valid RSA or ECDSA certificates");
      }
    }
  }
  // An update may keep review versions the server does not speak if the old CRD had them too.
  bool requireRecognized = true;
  if (oldSpec != nullptr) {
    auto old = reviewVersionsOf(getObj(*oldSpec, "conversion"));
    requireRecognized = old.empty();
    for (const auto& v : old) requireRecognized = requireRecognized || accepted(v);
  }
  validateReviewVersions(versions, requireRecognized, errs);
  return errs;
}

}  // namespace berth::apiserver::crd
