// The CRD converter and its webhook's ConversionReview (see conversion.h). Messages follow
// upstream's conversion/webhook_converter.go.
#include "apiserver/crd/conversion.h"

#include <boost/json.hpp>

#include "core/kinds/internal.h"

namespace berth::apiserver::crd {
namespace {

namespace json = boost::json;
using namespace core::kinds::detail;
using core::kinds::FieldErrors;

// Upstream gives a conversion webhook no timeout of its own; its rest client's default is 30 s.
constexpr auto kWebhookTimeout = std::chrono::seconds(30);

// The Go type a JSON value decodes to in an unstructured object, for %T in messages.
std::string goType(const json::value* v) {
  if (v == nullptr || v->is_null()) return "<nil>";
  if (v->is_string()) return "string";
  if (v->is_bool()) return "bool";
  if (v->is_double()) return "float64";
  if (v->is_number()) return "int64";
  if (v->is_array()) return "[]interface {}";
  return "map[string]interface {}";
}

// "group/version" + kind as Go prints a GroupVersionKind: "group/version, Kind=Kind".
std::string gvkText(std::string_view apiVersion, std::string_view kind) {
  std::string gv(apiVersion);
  if (gv.find('/') == std::string::npos) gv = "/" + gv;
  return gv + ", Kind=" + std::string(kind);
}

std::string_view metaStr(const json::object& obj, std::string_view k) {
  const json::object* m = getObj(obj, "metadata");
  return m ? getStr(*m, k) : std::string_view();
}

// An ErrorList's aggregate text: one error as is, several in brackets.
std::string aggregate(const FieldErrors& errs) {
  std::vector<std::string> texts;
  for (const auto& e : errs) texts.push_back(e.field + ": " + e.message);
  if (texts.size() == 1) return texts[0];
  std::string out = "[";
  for (size_t i = 0; i < texts.size(); ++i) out += (i ? ", " : "") + texts[i];
  return out + "]";
}

// Upstream's validateConvertedObject: identity may not change.
std::string sameIdentity(const json::object& in, const json::object& out) {
  if (getStr(in, "kind") != getStr(out, "kind"))
    return "must have the same kind: " + std::string(getStr(in, "kind")) +
           " != " + std::string(getStr(out, "kind"));
  for (auto [field, label] :
       {std::pair{"name", "name"}, std::pair{"namespace", "namespace"}, std::pair{"uid", "UID"}}) {
    if (metaStr(in, field) != metaStr(out, field))
      return std::string("must have the same ") + label + ": " + std::string(metaStr(in, field)) +
             " != " + std::string(metaStr(out, field));
  }
  return "";
}

// Upstream's restoreObjectMeta: the original's metadata, with the converted labels and
// annotations (validated when the webhook changed them).
std::string restoreObjectMeta(const json::object& original, json::object& converted) {
  const json::value* m = converted.if_contains("metadata");
  if (m == nullptr) return "missing metadata in converted object";
  if (!m->is_object()) return "invalid metadata of type " + goType(m) + " in converted object";
  json::object response = m->get_object();
  json::object meta;
  if (const json::object* om = getObj(original, "metadata")) meta = *om;
  for (const char* fld : {"labels", "annotations"}) {
    const json::value* got = response.if_contains(fld);
    if (got == nullptr || got->is_null()) {
      meta.erase(fld);
      continue;
    }
    if (!got->is_object())
      return std::string("invalid metadata.") + fld + " of type " + goType(got) +
             " in converted object";
    const json::value* had = meta.if_contains(fld);
    if (had != nullptr && !had->is_null() && !had->is_object())
      return std::string("invalid metadata.") + fld + " of type " + goType(had) +
             " in original object";
    const json::object* before = had && had->is_object() ? &had->get_object() : nullptr;
    bool changed = (before ? before->size() : 0) != got->get_object().size();
    for (const auto& [k, v] : got->get_object()) {
      if (!v.is_string())
        return std::string("metadata.") + fld + "[" + std::string(k) +
               "] must be a string, but is " + goType(&v) + " in converted object";
      const json::value* old = before ? before->if_contains(k) : nullptr;
      if (old == nullptr || *old != v) changed = true;
    }
    if (changed) {
      FieldErrors errs;
      if (std::string_view(fld) == "labels") {
        validateLabels(&got->get_object(), "metadata.labels", errs);
      } else {
        validateAnnotations(&got->get_object(), "metadata.annotation", errs);  // sic, upstream
      }
      if (!errs.empty()) return aggregate(errs);
    }
    meta[fld] = *got;
  }
  converted["metadata"] = std::move(meta);
  return "";
}

// client-go's error for a non-2xx answer that is not a Status.
std::string httpError(int status, const std::string& body) {
  if (status == 400) return "the server rejected our request for an unknown reason";
  if (status == 401) return "Unauthorized";
  if (status == 403) return "forbidden: " + body;
  if (status == 404) return "the server could not find the requested resource";
  if (status == 409) return "the server reported a conflict";
  return "an error on the server (" + goQuote(body.substr(0, 1024)) +
         ") has prevented the request from succeeding";
}

}  // namespace

json::object buildConversionReview(std::string_view reviewVersion, const std::string& uid,
                                   const std::string& desiredApiVersion,
                                   const std::vector<const json::object*>& objects) {
  json::array objs;
  for (const json::object* o : objects) objs.emplace_back(*o);
  // Upstream's request carries an empty response too.
  return {
      {"kind", "ConversionReview"},
      {"apiVersion", "apiextensions.k8s.io/" + std::string(reviewVersion)},
      {"request",
       {{"uid", uid}, {"desiredAPIVersion", desiredApiVersion}, {"objects", std::move(objs)}}},
      {"response",
       {{"uid", ""}, {"convertedObjects", nullptr}, {"result", {{"metadata", json::object()}}}}}};
}

core::Result<std::vector<json::object>> convertedObjects(
    std::string_view reviewVersion, std::string_view body, const std::string& uid,
    const std::vector<const json::object*>& originals, const std::string& desiredApiVersion,
    bool isList) {
  auto failed = [](std::string why) { return core::Status::internal("failed: " + why); };
  auto invalid = [](std::string why) { return core::Status::internal(std::move(why)); };
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object())
    return failed("unable to decode the response: " + (ec ? ec.message() : "not an object"));
  const json::object& review = doc.get_object();
  if (reviewVersion == "v1") {
    std::string_view av = getStr(review, "apiVersion"), kind = getStr(review, "kind");
    if (av != "apiextensions.k8s.io/v1" || kind != "ConversionReview")
      return failed(
          "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, "
          "got " +
          gvkText(av, kind));
  }
  const json::object* response = getObj(review, "response");
  if (response == nullptr) return failed("no response provided");
  // v1beta1 answers were never checked for their uid; upstream keeps that for compatibility.
  if (reviewVersion == "v1" && getStr(*response, "uid") != uid)
    return failed("expected response.uid=" + goQuote(uid) + ", got " +
                  goQuote(getStr(*response, "uid")));
  const json::object* result = getObj(*response, "result");
  std::string_view status = result ? getStr(*result, "status") : std::string_view();
  if (status != "Success") {
    std::string_view message = result ? getStr(*result, "message") : std::string_view();
    if (!message.empty()) return failed(std::string(message));
    return failed("response.result.status was '" + std::string(status) + "', not 'Success'");
  }
  const json::array* items = getArr(*response, "convertedObjects");
  size_t got = items ? items->size() : 0;
  if (got != originals.size())
    return invalid("returned " + std::to_string(got) + " objects, expected " +
                   std::to_string(originals.size()));
  std::vector<json::object> out;
  out.reserve(got);
  for (size_t i = 0; i < got; ++i) {
    const json::object& original = *originals[i];
    // Upstream counts list items from 1 once the item decoded (its index moves on first).
    std::string at = isList ? "returned invalid converted object at index " : "";
    std::string atNext =
        isList ? at + std::to_string(i + 1) + ": " : "returned invalid object at index 0: ";
    if (!(*items)[i].is_object()) {
      return invalid(isList ? at + std::to_string(i) + ": not an object"
                            : "returned invalid object at index 0: not an object");
    }
    json::object converted = (*items)[i].get_object();
    std::string_view gv = getStr(converted, "apiVersion");
    if (gv != desiredApiVersion)
      return invalid(atNext + "invalid groupVersion (expected " + desiredApiVersion +
                     ", received " + std::string(gv) + ")");
    if (getStr(converted, "kind") != getStr(original, "kind"))
      return invalid(atNext + "invalid kind (expected " + std::string(getStr(original, "kind")) +
                     ", received " + std::string(getStr(converted, "kind")) + ")");
    if (std::string why = sameIdentity(original, converted); !why.empty())
      return invalid((isList ? atNext : "returned invalid object: ") + why);
    if (std::string why = restoreObjectMeta(original, converted); !why.empty())
      return invalid(
          (isList ? "returned invalid metadata in object at index " + std::to_string(i + 1) + ": "
                  : "returned invalid metadata: ") +
          why);
    out.push_back(std::move(converted));
  }
  return out;
}

Converter::Converter(std::string kind, WebhookConversion webhook)
    : kind_(std::move(kind)),
      webhook_(std::make_shared<const WebhookConversion>(std::move(webhook))) {}

core::Status Converter::convert(const std::vector<json::object*>& objs,
                                const std::string& toApiVersion, bool isList) const {
  std::vector<json::object*> pending;
  for (json::object* o : objs) {
    if (getStr(*o, "apiVersion") == toApiVersion) continue;
    if (!webhook_) {
      (*o)["apiVersion"] = toApiVersion;  // None: nothing but the version changes
    } else {
      pending.push_back(o);
    }
  }
  if (pending.empty()) return {};
  std::string gvk = isList ? gvkText(toApiVersion, kind_ + "List")
                           : gvkText(getStr(*pending.front(), "apiVersion"), kind_);
  auto fail = [&](const std::string& why) {
    // Upstream returns a plain error: a 500 Status without a reason.
    return core::Status::generic(500, "", "conversion webhook for " + gvk + " " + why);
  };
  std::vector<const json::object*> originals(pending.begin(), pending.end());
  std::string uid = webhook::newRequestUid();
  std::string body =
      json::serialize(buildConversionReview(webhook_->reviewVersion, uid, toApiVersion, originals));
  if (!webhook_->client) return fail("failed: no webhook client");
  auto reply = webhook_->client->post(webhook_->clientConfig, body, kWebhookTimeout);
  if (!reply.ok()) return fail("failed: " + reply.status().message());
  if (reply->status < 200 || reply->status >= 300)
    return fail("failed: " + httpError(reply->status, reply->body));
  auto converted =
      convertedObjects(webhook_->reviewVersion, reply->body, uid, originals, toApiVersion, isList);
  if (!converted.ok()) return fail(converted.status().message());
  for (size_t i = 0; i < pending.size(); ++i) *pending[i] = std::move((*converted)[i]);
  return {};
}

std::string pickReviewVersion(const json::object& conversion) {
  const json::object* hook = getObj(conversion, "webhook");
  const json::array* versions = hook ? getArr(*hook, "conversionReviewVersions") : nullptr;
  for (size_t i = 0; versions && i < versions->size(); ++i) {
    if ((*versions)[i] == "v1" || (*versions)[i] == "v1beta1")
      return std::string((*versions)[i].get_string());
  }
  return "";
}

}  // namespace berth::apiserver::crd
