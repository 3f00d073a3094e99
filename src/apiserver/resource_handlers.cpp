// One handler per verb of a resource request (upstream's handlers/get.go, create.go, update.go,
// patch.go, delete.go): each decodes what its verb takes, calls the registry and replies in the
// negotiated media type. Routing, negotiation and the checks common to all verbs happen before,
// in ApiHandler::serveResource.
#include <boost/json.hpp>

#include "apiserver/api_handler.h"
#include "apiserver/partial_metadata.h"
#include "apiserver/protobuf/zero_values.h"
#include "apiserver/request_parsing.h"
#include "apiserver/resource_request.h"
#include "apiserver/wire_limits.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::Result;
using core::Status;

namespace {

Status methodNotAllowed() {
  return Status::methodNotSupported(
      "the server does not allow this method on the requested resource");
}

// A PartialObjectMetadataList straight from the cached objects, each parsed on its own: the
// garbage collector's first list of every Pod never becomes one document in memory.
Result<std::string> partialList(const Registry& registry, const core::ResourceType& rt,
                                const ListResponse& listed, const std::string& version) {
  json::object meta{{"resourceVersion", std::to_string(listed.revision)}};
  if (!listed.continueToken.empty()) meta["continue"] = listed.continueToken;
  if (listed.remaining) meta["remainingItemCount"] = *listed.remaining;
  std::string body = R"({"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/)" + version +
                     R"(","metadata":)" + json::serialize(meta) + R"(,"items":[)";
  bool first = true;
  // The cached JSON itself for kinds served as stored.
  auto st = registry.forEachServedJson(rt, listed.items, [&](const std::string& item) {
    size_t mark = body.size();
    if (!first) body += ',';
    if (appendPartialObjectMetadata(item, version, body)) {
      first = false;
    } else {
      body.resize(mark);
    }
  });
  if (!st.ok()) return st;
  body += "]}";
  return body;
}

}  // namespace

void ResourceRequest::sendWarnings() const {
  // RFC 7234 warn-text: a quoted string, with quotes and backslashes escaped (upstream's
  // warning.go); code 299 "miscellaneous persistent warning", agent "-".
  for (const auto& text : warnings) {
    std::string quoted = "299 - \"";
    for (char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    w.addHeader("Warning", quoted);
  }
}

void ResourceRequest::body(int code, std::string json) const {
  auto out = toPartialMetadata(media, std::move(json));
  if (!out.ok()) {
    status(out.status());
    return;
  }
  transformedBody(code, std::move(*out));
}

void ResourceRequest::object(int code, json::object obj) const {
  // Stored objects have Go's zero fields; those built for a subresource (Scale) or converted
  // to another served version get them here.
  if (!t.subresource.empty() || !rt.isStorageVersion()) protobuf::addGoZeroValues(obj);
  if (table() && core::stringField(obj, "kind") == rt.kind) {
    std::string rv;
    if (auto* m = obj.if_contains("metadata"); m && m->is_object())
      rv = core::stringField(m->as_object(), "resourceVersion");
    body(code, json::serialize(makeTable(rt, {obj}, rv, include, true)));
    return;
  }
  body(code, json::serialize(obj));
}

void ApiHandler::serveGet(ResourceRequest& r) {
  if (r.t.subresource == "scale") {
    r.result(200, registry_.getScale(r.rt, r.t.ns, r.t.name));
    return;
  }
  auto obj = registry_.get(r.rt, r.t.ns, r.t.name);
  if (!obj.ok()) {
    r.status(obj.status());
  } else if (r.table()) {
    auto served = registry_.served(r.rt, **obj);
    if (!served.ok()) return r.status(served.status());
    r.object(200, std::move(*served));
  } else {
    auto served = registry_.servedJson(r.rt, **obj);
    if (!served.ok()) return r.status(served.status());
    r.body(200, std::move(*served));
  }
}

void ApiHandler::serveList(ResourceRequest& r) {
  const auto& rt = r.rt;
  auto lr = listRequestFrom(r.req, r.t);
  if (!lr.ok()) {
    r.status(lr.status());
    return;
  }
  auto listed = registry_.list(rt, *lr);
  if (!listed.ok()) {
    r.status(listed.status());
    return;
  }
  if (r.media.partial == PartialMetadata::kList) {
    auto partial = partialList(registry_, rt, *listed, r.media.metaVersion);
    if (!partial.ok()) return r.status(partial.status());
    r.transformedBody(200, std::move(*partial));
    return;
  }
  std::string rv = std::to_string(listed->revision);
  if (r.table()) {
    auto objs = registry_.servedList(rt, listed->items);
    if (!objs.ok()) return r.status(objs.status());
    auto tbl = makeTable(rt, *objs, rv, r.include, true);
    if (!listed->continueToken.empty())
      tbl["metadata"].as_object()["continue"] = listed->continueToken;
    r.body(200, json::serialize(tbl));
    return;
  }
  // Build the list by concatenating the cached serialized objects: no re-encoding.
  std::string body;
  size_t size = 256;
  for (const auto& o : listed->items) size += o->json.size() + 1;
  body.reserve(size);
  body += "{\"kind\":\"" + rt.listKind() + "\",\"apiVersion\":\"" + rt.apiVersion() +
          "\",\"metadata\":{\"resourceVersion\":\"" + rv + "\"";
  if (!listed->continueToken.empty()) body += ",\"continue\":\"" + listed->continueToken + "\"";
  if (listed->remaining) body += ",\"remainingItemCount\":" + std::to_string(*listed->remaining);
  body += "},\"items\":[";
  bool first = true;
  auto st = registry_.forEachServedJson(rt, listed->items, [&](const std::string& item) {
    if (!first) body += ',';
    first = false;
    body += item;
  });
  if (!st.ok()) return r.status(st);
  body += "]}";
  r.body(200, std::move(body));
}

void ApiHandler::serveCreate(ResourceRequest& r) {
  const auto& t = r.t;
  if (t.subresource == "binding" || t.subresource == "eviction") {
    auto body = decodeObjectBody(r.req);
    if (!body.ok()) {
      r.status(body.status());
      return;
    }
    auto res = t.subresource == "binding" ? registry_.bind(t.ns, t.name, *body, r.wo)
                                          : registry_.evict(t.ns, t.name, *body);
    if (!res.ok()) {
      r.status(res.status());
      return;
    }
    r.body(201, json::serialize(*res));
    return;
  }
  if (!t.name.empty() || !t.subresource.empty()) {
    r.status(methodNotAllowed());
    return;
  }
  auto body = decodeObjectBody(r.req);
  if (!body.ok()) {
    r.status(body.status());
    return;
  }
  if (auto st = checkUnknownFields(r.req, r.rt, *body, r.w); !st.ok()) {
    r.status(st);
    return;
  }
  std::string stored;
  r.wo.storedJson = &stored;
  auto res = registry_.create(r.rt, t.ns, std::move(*body), r.wo);
  r.wo.storedJson = nullptr;
  r.written(201, std::move(res), std::move(stored));
}

void ApiHandler::serveUpdate(ResourceRequest& r) {
  const auto& t = r.t;
  if (t.name.empty()) {
    r.status(methodNotAllowed());
    return;
  }
  auto body = decodeObjectBody(r.req);
  if (!body.ok()) {
    r.status(body.status());
    return;
  }
  if (t.subresource == "scale") {
    r.result(200, registry_.updateScale(r.rt, t.ns, t.name, *body, r.wo));
    return;
  }
  if (t.subresource.empty()) {
    if (auto st = checkUnknownFields(r.req, r.rt, *body, r.w); !st.ok()) {
      r.status(st);
      return;
    }
  }
  std::string stored;
  r.wo.storedJson = &stored;
  auto res = registry_.update(r.rt, t.ns, t.name, std::move(*body), r.wo);
  r.wo.storedJson = nullptr;
  r.written(200, std::move(res), std::move(stored));
}

void ApiHandler::servePatch(ResourceRequest& r) {
  const auto& t = r.t;
  if (t.name.empty()) {
    r.status(methodNotAllowed());
    return;
  }
  std::string ct = r.req.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  PatchRequest pr;
  if (ct == "application/json-patch+json") {
    pr.type = PatchType::kJson;
  } else if (ct == "application/merge-patch+json") {
    pr.type = PatchType::kMerge;
  } else if (ct == "application/strategic-merge-patch+json") {
    pr.type = PatchType::kStrategic;
  } else if (ct == "application/apply-patch+yaml" || ct == "application/apply-patch+cbor") {
    pr.type = PatchType::kApply;
  } else {
    r.status(Status::unsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types "
        "include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml, application/strategic-merge-patch+json"));
    return;
  }
  auto body = decodeBody(r.req);
  if (!body.ok()) {
    r.status(body.status());
    return;
  }
  pr.patch = std::move(*body);
  pr.force = parseGoBool(r.req.queryParam("force"));
  if (pr.type == PatchType::kApply) {
    if (auto st = checkApplyRequest(r.req, r.rt, pr.patch, t.subresource != "scale"); !st.ok()) {
      r.status(st);
      return;
    }
    if (pr.patch.is_object() && t.subresource.empty()) {
      if (auto st = checkUnknownFields(r.req, r.rt, pr.patch.as_object(), r.w); !st.ok()) {
        r.status(st);
        return;
      }
    }
  }
  if (t.subresource == "scale") {
    r.result(200, registry_.patchScale(r.rt, t.ns, t.name, pr, r.wo));
    return;
  }
  bool created = false;
  std::string stored;
  r.wo.storedJson = &stored;
  auto res = registry_.patch(r.rt, t.ns, t.name, pr, r.wo, &created);
  r.wo.storedJson = nullptr;
  r.written(created ? 201 : 200, std::move(res), std::move(stored));
}

void ApiHandler::serveDelete(ResourceRequest& r) {
  auto opts = deleteOptionsFrom(r.req);
  if (!opts.ok()) {
    r.status(opts.status());
    return;
  }
  opts->requester = r.wo.requester;
  opts->warnings = &r.warnings;
  opts->auditAnnotations = &r.req.auditAnnotations;
  r.result(200, registry_.remove(r.rt, r.t.ns, r.t.name, *opts));
}

void ApiHandler::serveDeleteCollection(ResourceRequest& r) {
  auto opts = deleteOptionsFrom(r.req);
  if (!opts.ok()) {
    r.status(opts.status());
    return;
  }
  opts->requester = r.wo.requester;
  opts->warnings = &r.warnings;
  opts->auditAnnotations = &r.req.auditAnnotations;
  if (r.rt.namespaced && r.t.ns.empty()) {
    // Upstream routes only list and watch across namespaces (installer.go): a DELETE here
    // finds no route, and go-restful answers 405.
    r.status(methodNotAllowed().withCauses(
        {{"UnexpectedServerResponse", "405: Method Not Allowed", ""}}));
    return;
  }
  auto lr = listRequestFrom(r.req, r.t);
  if (!lr.ok()) {
    r.status(lr.status());
    return;
  }
  auto n = registry_.removeCollection(r.rt, *lr, *opts);
  if (!n.ok()) {
    r.status(n.status());
    return;
  }
  r.body(200, json::serialize(Status().toJson()));
}

}  // namespace berth::apiserver
