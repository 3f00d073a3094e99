// authorization.k8s.io/v1 reviews answered by the server's authorizer, as upstream's
// pkg/registry/authorization: SelfSubjectAccessReview (may the caller ...?), SubjectAccessReview
// (may this user ...?), LocalSubjectAccessReview (the same, in the URL's namespace) and
// SelfSubjectRulesReview (what may the caller do in a namespace?). Bodies arrive in JSON or
// protobuf (kubectl auth can-i sends protobuf); answers are 201 with the status filled in.
#include <boost/json.hpp>

#include "apiserver/api_handler.h"
#include "apiserver/authz/rbac_rules.h"
#include "apiserver/authz/selector_attributes.h"
#include "apiserver/replies.h"
#include "core/json_access.h"

namespace berth::apiserver {
namespace json = boost::json;
using core::Status;

namespace {

std::vector<std::string> stringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::value* v = o.if_contains(key); v && v->is_array())
    for (const auto& e : v->as_array())
      if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

Status invalidReview(const core::ResourceType& rt, std::string field, std::string value,
                     std::string message) {
  return Status::invalid(rt.group, rt.kind, "",
                         {core::StatusCause{"FieldValueInvalid",
                                            "Invalid value: " + value + ": " + message, field}});
}

// The attributes a review asks about (upstream ResourceAttributesFrom / NonResourceAttributesFrom).
authz::Attributes reviewAttributes(const json::object& spec) {
  authz::Attributes a;
  if (const json::object* ra = core::objectField(spec, "resourceAttributes")) {
    a.resourceRequest = true;
    a.ns = core::stringField(*ra, "namespace");
    a.verb = core::stringField(*ra, "verb");
    a.apiGroup = core::stringField(*ra, "group");
    a.apiVersion = core::stringField(*ra, "version");
    a.resource = core::stringField(*ra, "resource");
    a.subresource = core::stringField(*ra, "subresource");
    a.name = core::stringField(*ra, "name");
    authz::reviewSelectors(*ra, a);
  } else if (const json::object* na = core::objectField(spec, "nonResourceAttributes")) {
    a.path = core::stringField(*na, "path");
    a.verb = core::stringField(*na, "verb");
  }
  return a;
}

// SubjectAccessReview's subject: spec.user, groups, uid, extra (extra values as JSON arrays,
// or {items: [...]} as protobuf's ExtraValue decodes).
http::UserInfo specUser(const json::object& spec) {
  http::UserInfo u;
  u.name = core::stringField(spec, "user");
  u.groups = stringList(spec, "groups");
  u.uid = core::stringField(spec, "uid");
  if (const json::object* extra = core::objectField(spec, "extra")) {
    for (const auto& kv : *extra) {
      if (kv.value().is_array()) {
        u.extra[std::string(kv.key())] = stringList(*extra, kv.key());
      } else if (kv.value().is_object()) {
        u.extra[std::string(kv.key())] = stringList(kv.value().as_object(), "items");
      }
    }
  }
  return u;
}

json::object rulesStatus(const authz::RuleSet& set) {
  json::array resourceRules, nonResourceRules;
  for (const auto& r : set.rules) {
    json::object o = r.toJson();
    if (!r.nonResourceURLs.empty()) {
      nonResourceRules.push_back(std::move(o));
    } else {
      resourceRules.push_back(std::move(o));
    }
  }
  json::object status{{"resourceRules", std::move(resourceRules)},
                      {"nonResourceRules", std::move(nonResourceRules)},
                      {"incomplete", set.incomplete}};
  if (!set.errors.empty()) {
    std::string joined;
    for (size_t i = 0; i < set.errors.size(); ++i) joined += (i ? ", " : "") + set.errors[i];
    status["evaluationError"] = set.errors.size() == 1 ? joined : "[" + joined + "]";
  }
  return status;
}

}  // namespace

void ApiHandler::serveAccessReview(http::Request& req, http::ResponseWriter& w,
                                   const RequestTarget& t, const OutputMedia& media) {
  const core::ResourceType& rt = *t.rt;
  auto fail = [&](const Status& st) { sendStatusAs(w, media, st); };
  if (req.method != "POST") {
    fail(Status::methodNotSupported("the server does not allow this method on the requested "
                                    "resource"));
    return;
  }
  auto body = decodeObjectBody(req);
  if (!body.ok()) {
    fail(body.status());
    return;
  }
  json::object obj = std::move(*body);
  obj["kind"] = rt.kind;
  obj["apiVersion"] = rt.apiVersion();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  obj["metadata"].as_object()["creationTimestamp"] = nullptr;
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  const json::object& spec = obj["spec"].as_object();

  if (rt.kind == "SelfSubjectRulesReview") {
    std::string ns = core::stringField(spec, "namespace");
    if (ns.empty()) {
      fail(Status::badRequest("no namespace on request"));
      return;
    }
    authz::RuleSet set;
    if (authorizer_ == nullptr) {
      set.rules = authz::allRules();
    } else {
      authorizer_->rulesFor(req.user, ns, set);
    }
    obj["status"] = rulesStatus(set);
    sendEncoded(w, 201, media, json::serialize(obj));
    return;
  }

  const bool hasResource = core::objectField(spec, "resourceAttributes") != nullptr;
  const bool hasNonResource = core::objectField(spec, "nonResourceAttributes") != nullptr;
  if (hasResource == hasNonResource) {
    fail(invalidReview(rt, "spec.resourceAttributes", "null",
                       "exactly one of nonResourceAttributes or resourceAttributes must be "
                       "specified"));
    return;
  }
  if (const json::object* ra = core::objectField(spec, "resourceAttributes")) {
    auto causes = authz::validateReviewSelectors(*ra, "spec.resourceAttributes");
    if (!causes.empty()) {
      fail(Status::invalid(rt.group, rt.kind, "", std::move(causes)));
      return;
    }
  }
  authz::Attributes a = reviewAttributes(spec);
  if (rt.kind == "SelfSubjectAccessReview") {
    a.user = req.user;
  } else {
    a.user = specUser(spec);
    if (a.user.name.empty() && a.user.groups.empty()) {
      fail(invalidReview(rt, "spec.user", "\"\"", "at least one of user or group must be specified"));
      return;
    }
  }
  if (rt.kind == "LocalSubjectAccessReview") {
    if (hasNonResource) {
      fail(invalidReview(rt, "spec.nonResourceAttributes", "{}",
                         "disallowed on this kind of request"));
      return;
    }
    json::object& ra = obj["spec"].as_object()["resourceAttributes"].as_object();
    if (a.ns.empty()) {
      a.ns = t.ns;
      ra["namespace"] = t.ns;
    } else if (a.ns != t.ns) {
      fail(Status::badRequest("spec.resourceAttributes.namespace must match namespace: " + t.ns));
      return;
    }
  }
  authz::Verdict v =
      authorizer_ == nullptr ? authz::Verdict{authz::Decision::kAllow, ""} : authorizer_->authorize(a);
  json::object status{{"allowed", v.allowed()}};
  if (v.decision == authz::Decision::kDeny) status["denied"] = true;
  if (!v.reason.empty()) status["reason"] = v.reason;
  // Selectors that did not parse were ignored (the broader question was asked); say so.
  if (std::string err = authz::selectorErrors(a); !err.empty()) status["evaluationError"] = err;
  obj["status"] = std::move(status);
  sendEncoded(w, 201, media, json::serialize(obj));
}

}  // namespace berth::apiserver
