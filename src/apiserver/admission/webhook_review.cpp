#include "apiserver/admission/webhook_review.h"

#include <boost/json/parse.hpp>

#include <cstdio>
#include <random>

#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

json::object optionsFor(const Attributes& a) {
  const char* kind = a.operation == Operation::kCreate   ? "CreateOptions"
                     : a.operation == Operation::kUpdate ? "UpdateOptions"
                     : a.operation == Operation::kDelete ? "DeleteOptions"
                                                         : "";
  json::object o{{"kind", kind}, {"apiVersion", "meta.k8s.io/v1"}};
  if (a.dryRun) o["dryRun"] = json::array{"All"};
  return o;
}

json::object userInfo(const core::kinds::Requester& u) {
  json::object o{{"username", u.name}};
  if (!u.uid.empty()) o["uid"] = u.uid;
  if (!u.groups.empty()) {
    json::array g;
    for (const auto& s : u.groups) g.push_back(json::string(s));
    o["groups"] = std::move(g);
  }
  if (!u.extra.empty()) {
    json::object e;
    for (const auto& [k, vs] : u.extra) {
      json::array arr;
      for (const auto& v : vs) arr.push_back(json::string(v));
      e[k] = std::move(arr);
    }
    o["extra"] = std::move(e);
  }
  return o;
}

}  // namespace

json::object admissionRequestForCel(const Attributes& a) {
  const core::ResourceType& rt = *a.resource;
  json::object kind{{"group", rt.group}, {"version", rt.version}, {"kind", rt.kind}};
  json::object resource{{"group", rt.group}, {"version", rt.version}, {"resource", rt.plural}};
  json::object user = userInfo(a.user);
  for (const char* k : {"uid"}) {
    if (!user.contains(k)) user[k] = "";
  }
  if (!user.contains("groups")) user["groups"] = json::array();
  if (!user.contains("extra")) user["extra"] = json::object();
  return json::object{{"uid", ""},
                      {"kind", kind},
                      {"resource", resource},
                      {"subResource", a.subresource},
                      {"requestKind", kind},
                      {"requestResource", resource},
                      {"requestSubResource", a.subresource},
                      {"name", a.name},
                      {"namespace", a.ns},
                      {"operation", operationName(a.operation)},
                      {"userInfo", std::move(user)},
                      {"dryRun", a.dryRun},
                      {"options", optionsFor(a)}};
}

json::object buildAdmissionReview(const Attributes& a, const std::string& uid) {
  const core::ResourceType& rt = *a.resource;
  json::object kind{{"group", rt.group}, {"version", rt.version}, {"kind", rt.kind}};
  json::object resource{{"group", rt.group}, {"version", rt.version}, {"resource", rt.plural}};
  json::object req{{"uid", uid},
                   {"kind", kind},
                   {"resource", resource},
                   {"requestKind", kind},
                   {"requestResource", resource},
                   {"name", a.name},
                   {"operation", operationName(a.operation)},
                   {"userInfo", userInfo(a.user)},
                   {"object", a.object ? json::value(*a.object) : json::value(nullptr)},
                   {"oldObject", a.oldObject ? json::value(*a.oldObject) : json::value(nullptr)},
                   {"dryRun", a.dryRun},
                   {"options", optionsFor(a)}};
  if (!a.subresource.empty()) {
    req["subResource"] = a.subresource;
    req["requestSubResource"] = a.subresource;
  }
  if (!a.ns.empty()) req["namespace"] = a.ns;
  return json::object{
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}};
}

core::Result<ReviewOutcome> parseAdmissionReview(std::string_view body, const std::string& uid,
                                                 const std::string& webhookName) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return core::Status::internal("received invalid webhook response: " +
                                  (ec ? ec.message() : std::string("not an object")));
  }
  const json::object* resp = core::objectField(doc.as_object(), "response");
  if (!resp) return core::Status::internal("webhook response was absent");
  std::string gotUid = core::stringField(*resp, "uid");
  if (gotUid != uid) {
    return core::Status::internal("expected response.uid=\"" + uid + "\", got \"" + gotUid + "\"");
  }
  ReviewOutcome out;
  auto* allowed = resp->if_contains("allowed");
  out.allowed = allowed && allowed->is_bool() && allowed->as_bool();
  if (auto* w = resp->if_contains("warnings"); w && w->is_array()) {
    for (const auto& s : w->as_array()) {
      if (s.is_string()) out.warnings.emplace_back(s.as_string());
    }
  }
  if (!out.allowed) {
    // Upstream's webhookerrors.ToStatusErr.
    const json::object* st = core::objectField(*resp, "status");
    int code = 0;
    std::string message, reason;
    if (st) {
      if (auto* c = st->if_contains("code"); c && c->is_number()) code = c->to_number<int>();
      message = core::stringField(*st, "message");
      reason = core::stringField(*st, "reason");
    }
    if (code < 400) code = 400;
    std::string deniedBy = "admission webhook \"" + webhookName + "\" denied the request";
    std::string full = !message.empty()  ? deniedBy + ": " + message
                       : !reason.empty() ? deniedBy + ": " + reason
                                         : deniedBy + " without explanation";
    out.denial = core::Status::generic(code, reason, std::move(full));
    return out;
  }
  std::string patch = core::stringField(*resp, "patch");
  if (!patch.empty()) {
    std::string type = core::stringField(*resp, "patchType");
    if (type != "JSONPatch") {
      return core::Status::internal("unsupported patch type \"" + type + "\"");
    }
    auto decoded = core::base64Decode(patch);
    if (!decoded) return core::Status::internal("patch is not valid base64");
    json::value ops = json::parse(*decoded, ec);
    if (ec || !ops.is_array()) return core::Status::internal("patch is not a JSON array");
    out.patch = std::move(ops);
  }
  return out;
}

}  // namespace berth::apiserver::admission
