#include "apiserver/request_parsing.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/schema.h"
#include "apiserver/wire_limits.h"
#include "apiserver/yaml_json.h"
#include "core/resource_behavior.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::ResourceType;
using Target = RequestTarget;

bool parseGoBool(std::string_view v) {
  // runtime.Convert_Slice_string_To_bool, which decodes boolean query parameters upstream: only
  // "0" and "false" (any case) are false. Absent reads as empty here: false too (a present but
  // empty value, true upstream, is not told apart).
  if (v.empty() || v == "0") return false;
  return !(v.size() == 5 && std::equal(v.begin(), v.end(), "false", [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           }));
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Decodes a request body by Content-Type into JSON.
Result<json::value> decodeBody(const http::Request& req) {
  std::string ct = req.header("content-type");
  auto semi = ct.find(';');
  std::string media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (req.body.empty()) return Status::badRequest("request body is empty");
  if (media == protobuf::kMediaType) {
    auto obj = protobuf::decodeEnvelope(req.body);
    if (!obj.ok()) return obj.status();
    return json::value(std::move(*obj));
  }
  if (media == "application/yaml" || media == "application/apply-patch+yaml" ||
      media == "application/x-yaml" || media == "text/yaml") {
    return yamlToJson(req.body);
  }
  if (!media.empty() && media != "application/json" && media != "application/json-patch+json" &&
      media != "application/merge-patch+json" &&
      media != "application/strategic-merge-patch+json" && media != "*/*") {
    return Status::unsupportedMediaType(
        "the body of the request was in an unknown format - "
        "accepted media types include: application/json, "
        "application/yaml, application/vnd.kubernetes.protobuf");
  }
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = kMaxJsonDepth;  // Go's decoder: "exceeded max depth" past 10000
  json::value v = json::parse(req.body, ec, {}, po);
  if (ec == json::error::too_deep) {
    return Status::badRequest("error decoding request body: json: exceeded max depth of " +
                              std::to_string(kMaxJsonDepth));
  }
  if (ec) {
    return Status::badRequest("error decoding request body: invalid JSON: " + ec.message());
  }
  return v;
}

Result<json::object> decodeObjectBody(const http::Request& req) {
  auto v = decodeBody(req);
  if (!v.ok()) return v.status();
  if (!v->is_object()) return Status::badRequest("request body must be a JSON object");
  return std::move(v->as_object());
}

// fieldValidation=Strict|Warn|Ignore (default Warn): unknown fields per the type schema.
Status checkUnknownFields(const http::Request& req, const ResourceType& rt, const json::object& obj,
                          http::ResponseWriter& w) {
  std::string mode = req.queryParam("fieldValidation");
  if (mode == "Ignore") return {};
  if (req.header("content-type").find(protobuf::kMediaType) != std::string::npos) return {};
  std::vector<std::string> unknown;
  if (rt.behavior) {
    unknown = rt.behavior->unknownFields(obj);
  } else {
    const auto* msg = protobuf::messageForKind(rt.apiVersion(), rt.kind);
    if (!msg) return {};
    unknown = protobuf::unknownFields(msg->name, json::value(obj));
  }
  if (unknown.empty()) return {};
  if (mode == "Strict") {
    std::string m = rt.kind + " in version \"" + rt.version + "\" cannot be handled as a " +
                    rt.kind + ": strict decoding error: ";
    for (size_t i = 0; i < unknown.size(); ++i) {
      if (i) m += ", ";
      m += "unknown field \"" + unknown[i] + "\"";
    }
    return Status::badRequest(m);
  }
  for (const auto& u : unknown) w.addHeader("Warning", "299 - \"unknown field \\\"" + u + "\\\"\"");
  return {};
}

// What upstream checks before a server-side apply runs: PatchOptions validation wants an
// explicit fieldManager (422; other patches default it from the user agent), and the field
// manager wants the body's apiVersion to be the endpoint's (400).
Status checkApplyRequest(const http::Request& req, const ResourceType& rt, const json::value& patch,
                         bool sameKind) {
  if (req.queryParam("fieldManager").empty()) {
    return invalidOptions(
        "PatchOptions",
        {"FieldValueRequired", "Required value: is required for apply patch", "fieldManager"});
  }
  if (!sameKind) return {};  // scale: the body is an autoscaling/v1 Scale
  if (!patch.is_object()) return Status::badRequest("error decoding YAML: not an object");
  std::string apiVersion = core::stringField(patch.as_object(), "apiVersion");
  if (apiVersion != rt.apiVersion()) {
    return Status::badRequest(
        "Incorrect version specified in apply patch. Specified patch version: " + apiVersion +
        ", expected: " + rt.apiVersion());
  }
  if (core::stringField(patch.as_object(), "kind").empty()) {
    std::string body = json::serialize(patch);
    return Status::badRequest("Object 'Kind' is missing in '" + body + "'");
  }
  return {};
}

std::string userAgentManager(const http::Request& req) {
  std::string ua = req.header("user-agent");
  auto slash = ua.find('/');
  std::string m = ua.substr(0, slash);
  if (m.size() > 128) m.resize(128);
  return m.empty() ? "unknown" : m;
}

// Parses /api/v1/... or /apis/g/v/... after the group/version into a Target. `segs` starts after
// the version.
Result<Target> resolveTarget(std::string_view group, std::string_view version,
                             const std::vector<std::string>& segs) {
  Target t;
  auto find = [&](const std::string& plural) { return core::findResource(group, version, plural); };
  if (segs.empty()) return Status::notFound("", "");
  size_t i = 0;
  if (segs[0] == "namespaces" && segs.size() >= 3) {
    const auto* rt = find(segs[2]);
    if (rt && rt->namespaced) {
      t.ns = segs[1];
      t.rt = rt;
      i = 3;
      if (i < segs.size()) t.name = segs[i++];
      if (i < segs.size()) t.subresource = segs[i++];
      if (i < segs.size()) {
        if (t.subresource != "proxy") return Status::notFound("", "");
      }
      return t;
    }
  }
  const auto* rt = find(segs[0]);
  if (!rt) return Status::notFound("", "");
  t.rt = rt;
  i = 1;
  if (i < segs.size()) t.name = segs[i++];
  if (i < segs.size()) t.subresource = segs[i++];
  if (rt->namespaced && !t.name.empty()) return Status::notFound("", "");
  if (i < segs.size() && t.subresource != "proxy") return Status::notFound("", "");
  return t;
}

Result<DeleteOptions> deleteOptionsFrom(const http::Request& req) {
  DeleteOptions d;
  if (!req.body.empty()) {
    auto body = decodeObjectBody(req);
    if (!body.ok()) return body.status();
    const auto& o = *body;
    if (auto* g = o.if_contains("gracePeriodSeconds"); g && g->is_int64())
      d.gracePeriodSeconds = g->as_int64();
    d.propagationPolicy = core::stringField(o, "propagationPolicy");
    // The deprecated orphanDependents: false is explicit too (not the kind's default).
    if (auto* orphan = o.if_contains("orphanDependents");
        orphan && orphan->is_bool() && d.propagationPolicy.empty())
      d.propagationPolicy = orphan->as_bool() ? "Orphan" : "Background";
    if (auto* p = o.if_contains("preconditions"); p && p->is_object()) {
      d.preconditionUid = core::stringField(p->as_object(), "uid");
      d.preconditionResourceVersion = core::stringField(p->as_object(), "resourceVersion");
    }
    if (auto* dr = o.if_contains("dryRun"); dr && dr->is_array() && !dr->as_array().empty())
      d.dryRun = true;
  }
  if (req.hasQueryParam("gracePeriodSeconds")) {
    try {
      d.gracePeriodSeconds = std::stoll(req.queryParam("gracePeriodSeconds"));
    } catch (...) {
      return Status::badRequest("invalid gracePeriodSeconds");
    }
  }
  if (req.hasQueryParam("propagationPolicy"))
    d.propagationPolicy = req.queryParam("propagationPolicy");
  if (req.hasQueryParam("dryRun")) d.dryRun = true;
  if (!d.propagationPolicy.empty() && d.propagationPolicy != "Orphan" &&
      d.propagationPolicy != "Background" && d.propagationPolicy != "Foreground") {
    return Status::invalid("meta.k8s.io", "DeleteOptions", "",
                           {{"FieldValueNotSupported",
                             "Unsupported value: \"" + d.propagationPolicy +
                                 "\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                             "propagationPolicy"}});
  }
  return d;
}

Result<ListRequest> listRequestFrom(const http::Request& req, const Target& t) {
  ListRequest lr;
  lr.namespace_ = t.ns;
  lr.labelSelector = req.queryParam("labelSelector");
  lr.fieldSelector = req.queryParam("fieldSelector");
  if (req.hasQueryParam("limit")) {
    try {
      lr.limit = std::stoll(req.queryParam("limit"));
    } catch (...) {
      return Status::badRequest("invalid limit");
    }
  }
  lr.continueToken = req.queryParam("continue");
  lr.resourceVersion = req.queryParam("resourceVersion");
  lr.resourceVersionMatch = req.queryParam("resourceVersionMatch");
  if (req.hasQueryParam("sendInitialEvents")) {
    if (auto st = validateListOptions(lr, false, parseGoBool(req.queryParam("sendInitialEvents")));
        !st.ok())
      return st;
  }
  return lr;
}

}  // namespace berth::apiserver
