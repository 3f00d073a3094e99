#include "apiserver/partial_metadata.h"

#include <boost/json.hpp>

#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::Status;

namespace {

// {"kind":<kind>,"apiVersion":"meta.k8s.io/<version>","metadata":<from's metadata>}
json::object withMetadataOf(const json::object& from, std::string_view kind,
                            std::string_view version) {
  json::object out;
  out["kind"] = kind;
  out["apiVersion"] = "meta.k8s.io/" + std::string(version);
  const auto* m = from.if_contains("metadata");
  out["metadata"] = m && m->is_object() ? m->as_object() : json::object();
  return out;
}

// A list response as the list handler writes it: <Kind>List with items.
bool isList(const json::object& o) {
  std::string kind = core::stringField(o, "kind");
  const auto* items = o.if_contains("items");
  return kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0 && items &&
         items->is_array();
}

// The list form: each item reduced, the list's ListMeta (resourceVersion, continue,
// remainingItemCount) kept for paging and the informer's watch that follows.
json::object partialList(const json::object& list, std::string_view version) {
  json::object out = withMetadataOf(list, "PartialObjectMetadataList", version);
  json::array items;
  const auto& in = list.at("items").as_array();
  items.reserve(in.size());
  for (const auto& item : in) {
    // Go writes `items: []` for none (the Python client requires the field).
    if (item.is_object()) items.push_back(partialObjectMetadata(item.as_object(), version));
  }
  out["items"] = std::move(items);
  return out;
}

}  // namespace

json::object partialObjectMetadata(const json::object& obj, std::string_view version) {
  return withMetadataOf(obj, "PartialObjectMetadata", version);
}

bool appendPartialObjectMetadata(std::string_view objectJson, std::string_view version,
                                 std::string& out) {
  // Parsed into scratch memory and dropped at once: only the metadata is written out.
  unsigned char buffer[16384];
  json::monotonic_resource scratch(buffer, sizeof(buffer));
  boost::system::error_code ec;
  json::value v = json::parse(objectJson, ec, &scratch);
  if (ec || !v.is_object()) return false;
  const auto* m = v.as_object().if_contains("metadata");
  out += R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/)";
  out += version;
  out += R"(","metadata":)";
  out += m && m->is_object() ? json::serialize(*m) : std::string("{}");
  out += '}';
  return true;
}

core::Result<std::string> toPartialMetadata(const OutputMedia& media, std::string body) {
  if (media.partial == PartialMetadata::kNone) return body;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return body;
  const json::object& o = v.as_object();
  std::string kind = core::stringField(o, "kind");
  if (kind == "Status" && core::stringField(o, "apiVersion") == "v1") return body;
  bool list = isList(o);
  if (media.partial == PartialMetadata::kObject) {
    if (list) {
      return Status::notAcceptable(
          "you requested PartialObjectMetadata, but the requested object "
          "is a list (" +
          std::string(kind) + ")");
    }
    return json::serialize(partialObjectMetadata(o, media.metaVersion));
  }
  if (!list) {
    return Status::notAcceptable(
        "you requested PartialObjectMetadataList, but the requested "
        "object is not a list (" +
        std::string(kind) + ")");
  }
  return json::serialize(partialList(o, media.metaVersion));
}

}  // namespace berth::apiserver
