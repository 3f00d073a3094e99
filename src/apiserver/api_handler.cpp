#include "apiserver/api_handler.h"
#include "apiserver/pod_streaming.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <random>

#include "apiserver/discovery.h"
#include "apiserver/identity_api.h"
#include "apiserver/replies.h"
#include "apiserver/request_parsing.h"
#include "apiserver/resource_request.h"
#include "apiserver/negotiation.h"
#include "apiserver/openapi/openapi.h"
#include "apiserver/openapi/serve.h"
#include "apiserver/partial_metadata.h"
#include "apiserver/printers/table.h"
#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/schema.h"
#include "apiserver/protobuf/zero_values.h"
#include "apiserver/wire_limits.h"
#include "apiserver/yaml_json.h"
#include "core/labels.h"
#include "core/resource_behavior.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::ResourceType;

namespace {

json::object tableRow(const ResourceType& rt, const json::object& obj, const std::string& include,
                      std::chrono::system_clock::time_point now) {
  json::object row;
  row["cells"] = printers::rowCells(rt, obj, now);
  if (include == "Object") {
    row["object"] = obj;
  } else if (include != "None") {
    row["object"] = partialObjectMetadata(obj);
  }
  return row;
}

}  // namespace

json::object makeTable(const ResourceType& rt, const std::vector<json::object>& objs,
                       const std::string& rv, const std::string& include, bool withColumns) {
  auto now = std::chrono::system_clock::now();
  json::object t;
  t["kind"] = "Table";
  t["apiVersion"] = "meta.k8s.io/v1";
  json::object meta;
  if (!rv.empty()) meta["resourceVersion"] = rv;
  t["metadata"] = std::move(meta);
  t["columnDefinitions"] = withColumns ? printers::columnDefinitions(rt) : json::array();
  json::array rows;
  for (const auto& o : objs) rows.push_back(tableRow(rt, o, include, now));
  t["rows"] = std::move(rows);
  return t;
}

ApiHandler::ApiHandler(Registry& registry, CacheSet& cache, std::string serverAddress)
    : registry_(registry), cache_(cache), serverAddress_(std::move(serverAddress)) {}

// The router: public endpoints, authentication, the root and OpenAPI documents, discovery, then
// resources (serveResource). Health and metrics are answered before this handler
// (health/, metrics/ wrap it in api_server.cpp).
void ApiHandler::handle(http::Request& req, http::ResponseWriter& w) {
  const std::string& path = req.path;
  if (path == "/version" || path == "/version/") {
    sendJson(w, 200, versionInfo());
    return;
  }
  if (!authenticateRequest(req, w)) return;  // request_authn.cpp
  if (!authorizeRequest(req, w)) return;     // request_authz.cpp
  if (identity_ && identity_->serveDiscovery(req, w)) return;  // OIDC discovery
  auto segs = splitPath(path);
  if (segs.empty()) {
    json::array paths{"/api",        "/api/v1",     "/apis",   "/healthz", "/livez",
                      "/openapi/v2", "/openapi/v3", "/readyz", "/version"};
    for (const auto& g : core::apiGroups()) {
      paths.push_back(json::string("/apis/" + g.group));
      for (const auto& v : g.versions) paths.push_back(json::string("/apis/" + g.group + "/" + v));
    }
    sendJson(w, 200, json::serialize(json::object{{"paths", paths}}));
    return;
  }
  if (segs[0] == "openapi") {
    serveOpenApi(req, w, segs);
    return;
  }
  std::string group, version;
  std::vector<std::string> rest;
  // Aggregated discovery when the client asks for it (kubectl 1.32 does, with a JSON fallback).
  bool aggregated = req.header("accept").find("as=APIGroupDiscoveryList") != std::string::npos &&
                    req.header("accept").find("v=v2;") != std::string::npos;
  if (aggregated && segs.size() == 1 && (segs[0] == "api" || segs[0] == "apis")) {
    w.send(200, kAggregatedDiscoveryType, aggregatedDiscovery(segs[0] == "api") + "\n");
    return;
  }
  if (segs[0] == "api") {
    if (segs.size() == 1) {
      sendJson(w, 200, discoveryApiVersions(serverAddress_));
      return;
    }
    version = segs[1];
    rest.assign(segs.begin() + 2, segs.end());
  } else if (segs[0] == "apis") {
    if (segs.size() == 1) {
      sendJson(w, 200, discoveryGroupList());
      return;
    }
    group = segs[1];
    if (segs.size() == 2) {
      for (const auto& g : core::apiGroups()) {
        if (g.group != group) continue;
        json::array versions;
        for (const auto& v : g.versions)
          versions.push_back(json::object{{"groupVersion", g.group + "/" + v}, {"version", v}});
        json::object o{
            {"kind", "APIGroup"},
            {"apiVersion", "v1"},
            {"name", g.group},
            {"versions", versions},
            {"preferredVersion", json::object{{"groupVersion", g.group + "/" + g.versions[0]},
                                              {"version", g.versions[0]}}}};
        sendJson(w, 200, json::serialize(o));
        return;
      }
      sendStatus(
          w, Status::generic(404, "NotFound", "the server could not find the requested resource"));
      return;
    }
    version = segs[2];
    rest.assign(segs.begin() + 3, segs.end());
  } else {
    sendStatus(
        w, Status::generic(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  serveResource(req, w, group, version, rest);
}

void ApiHandler::serveOpenApi(http::Request& req, http::ResponseWriter& w,
                              const std::vector<std::string>& segs) {
  std::string normalized;
  for (const auto& s : segs) normalized += "/" + s;
  const std::string accept = req.header("accept");
  const std::string ifNoneMatch = req.header("if-none-match");
  const std::string hash = req.queryParam("hash");
  const std::string acceptEncoding = req.header("accept-encoding");
  if (auto reply = openapi::serve({normalized, accept, ifNoneMatch, hash, acceptEncoding})) {
    for (const auto& [name, value] : reply->headers) w.addHeader(name, value);
    w.send(reply->status, reply->contentType, reply->body);
    return;
  }
  sendStatus(w, Status::notFound("", "").withDetails("", "", ""));
}

// A resource request: the target resolved, the output negotiated, the request checked, then one
// handler per verb (resource_handlers.cpp) and watch (watch_handler.cpp).
void ApiHandler::serveResource(http::Request& req, http::ResponseWriter& w,
                               const std::string& group, const std::string& version,
                               const std::vector<std::string>& rest) {
  // A resource just defined by a CRD is served once the cache has seen the CRD: a miss waits
  // for the cache to catch up with the store (read-your-writes for CRDs).
  auto resolveFresh = [&]() {
    auto t = resolveTarget(group, version, rest);
    if (!t.ok() && cache_.waitUntilFresh(std::chrono::seconds(5)))
      t = resolveTarget(group, version, rest);
    return t;
  };
  if (rest.empty()) {
    if (!discoveryResourceList(group, version)) cache_.waitUntilFresh(std::chrono::seconds(5));
    if (auto doc = discoveryResourceList(group, version)) {
      sendJson(w, 200, *doc);
      return;
    }
    sendStatus(
        w, Status::generic(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  auto target = resolveFresh();
  if (!target.ok()) {
    sendStatus(
        w, Status::generic(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  RequestTarget& t = *target;
  if (!t.subresource.empty() && !t.rt->hasSubresource(t.subresource)) {
    sendStatus(
        w, Status::generic(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  if (podStreams_ != nullptr && PodStreamProxy::handles(t)) {
    podStreams_->serve(req, w, t);
    return;
  }
  const ResourceType& rt = *t.rt;
  const std::string& method = req.method;
  bool watching = (method == "GET" || method == "HEAD") && parseGoBool(req.queryParam("watch"));
  auto negotiated = negotiateOutput(req.header("accept"), watching);
  if (!negotiated.ok()) {
    sendStatus(w, negotiated.status());
    return;
  }
  const OutputMedia media = *negotiated;
  // From here on replies go out in the negotiated media type: these hide the JSON-only helpers.
  auto sendStatus = [&](http::ResponseWriter& out, const Status& st) {
    sendStatusAs(out, media, st);
  };
  if (auto st = checkQueryParams(req, t.name.empty() || watching); !st.ok()) {
    sendStatus(w, st);
    return;
  }
  if (rt.behavior && !rt.behavior->supportsStrategicMerge()) {
    // Custom resources have no protobuf schema; upstream serves them as JSON (and YAML) only.
    if (req.header("content-type").find(protobuf::kMediaType) != std::string::npos) {
      sendStatus(w, Status::unsupportedMediaType(
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json, application/yaml"));
      return;
    }
    // "protobuf, json" falls back to JSON (encodeResponse does); protobuf alone cannot be served.
    // PartialObjectMetadata is a meta.k8s.io kind: protobuf for custom resources too.
    std::string accept = req.header("accept");
    if (media.kind == MediaKind::kProtobuf && media.partial == PartialMetadata::kNone &&
        accept.find("json") == std::string::npos && accept.find("yaml") == std::string::npos &&
        accept.find("/*") == std::string::npos) {
      sendStatusAs(w, OutputMedia{},
                   Status::notAcceptable("only the following media types are accepted: "
                                         "application/json, application/yaml"));
      return;
    }
  }
  if (identity_ && IdentityApi::handles(t)) {  // serviceaccounts/token, token & self reviews
    identity_->serve(req, w, t, media);
    return;
  }
  if (rt.virtualResource) {
    if (rt.group == "authorization.k8s.io") {
      serveAccessReview(req, w, t, media);  // access_reviews.cpp
    } else {
      serveReview(req, w, rt);
    }
    return;
  }
  WriteOptions wo;
  wo.fieldManager =
      req.hasQueryParam("fieldManager") ? req.queryParam("fieldManager") : userAgentManager(req);
  wo.dryRun = req.hasQueryParam("dryRun");
  wo.subresource = t.subresource;
  wo.requester = {req.user.name, req.user.groups, req.user.uid, req.user.extra};
  ResourceRequest r{req, w, t, rt, media, std::move(wo), req.queryParam("includeObject"), {}};
  r.wo.warnings = &r.warnings;
  r.wo.auditAnnotations = &req.auditAnnotations;
  if (method == "GET" || method == "HEAD") {
    if (t.subresource == "log" || t.subresource == "exec" || t.subresource == "attach" ||
        t.subresource == "portforward" || t.subresource == "proxy") {
      r.status(Status::badRequest("the " + t.subresource +
                                  " subresource needs a node agent "
                                  "(kubelet), which this server does not run yet"));
    } else if (watching) {
      if (!r.t.name.empty()) {
        // /namespaces/ns/pods/name?watch=1 watches one object.
        std::string fs = req.queryParam("fieldSelector");
        req.query.erase("fieldSelector");
        req.query.emplace("fieldSelector",
                          "metadata.name=" + r.t.name + (fs.empty() ? "" : "," + fs));
        r.t.name.clear();
      }
      serveWatch(req, w, r.t);
    } else if (t.name.empty()) {
      serveList(r);
    } else {
      serveGet(r);
    }
  } else if (method == "POST") {
    serveCreate(r);
  } else if (method == "PUT") {
    serveUpdate(r);
  } else if (method == "PATCH") {
    servePatch(r);
  } else if (method == "DELETE") {
    if (t.name.empty()) {
      serveDeleteCollection(r);
    } else {
      serveDelete(r);
    }
  } else {
    r.status(Status::methodNotSupported(
        "the server does not allow this method on the requested resource"));
  }
}

// SelfSubjectReview answers who the caller is. (The authorization.k8s.io reviews are in
// access_reviews.cpp.)
void ApiHandler::serveReview(http::Request& req, http::ResponseWriter& w,
                             const core::ResourceType& rt) {
  if (req.method != "POST") {
    sendStatus(w, Status::methodNotSupported("the server does not allow this method on the "
                                             "requested resource"));
    return;
  }
  json::object obj;
  if (auto body = decodeObjectBody(req); body.ok()) obj = std::move(*body);
  obj["kind"] = rt.kind;
  obj["apiVersion"] = rt.apiVersion();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  obj["metadata"].as_object()["creationTimestamp"] = nullptr;
  json::array groups;
  for (const auto& g : req.user.groups) groups.push_back(json::string(g));
  obj["status"] =
      json::object{{"userInfo", json::object{{"username", req.user.name}, {"groups", groups}}}};
  sendJson(w, 201, json::serialize(obj));
}

}  // namespace berth::apiserver
