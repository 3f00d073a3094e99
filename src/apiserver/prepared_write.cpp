#include "apiserver/prepared_write.h"

#include <boost/json.hpp>

#include <mutex>
#include <set>

#include "core/kinds/strategy.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

// Field paths are a small fixed vocabulary; each cached object points at one shared copy.
std::string_view internedFieldName(const std::string& path) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> names;
  std::lock_guard lock(mu);
  return *names.insert(path).first;
}

// json::serialize(v) appended to `out`, without a string of its own.
void appendSerialized(std::string& out, const json::value& v) {
  json::serializer sr;
  sr.reset(&v);
  char buf[4096];
  while (!sr.done()) out.append(sr.read(buf, sizeof buf));
}

}  // namespace

void indexCachedObject(const core::ResourceType& storageType, const json::object& obj,
                       CachedObject& out) {
  if (const auto* m = obj.if_contains("metadata"); m && m->is_object()) {
    const auto& meta = m->as_object();
    if (auto* ns = meta.if_contains("namespace"); ns && ns->is_string())
      out.namespace_ = std::string(ns->as_string());
    if (auto* n = meta.if_contains("name"); n && n->is_string())
      out.name = std::string(n->as_string());
  }
  out.labels = core::labelsOf(obj);
  for (auto& [path, value] : core::kinds::selectableFields(storageType, obj)) {
    if (value.empty() || path == "metadata.name" || path == "metadata.namespace") continue;
    out.fields.emplace_back(internedFieldName(path), value);
  }
  out.fields.shrink_to_fit();
}

std::shared_ptr<PreparedWrite> prepareWrite(const core::ResourceType& storageType,
                                            const std::string& key, const json::object& obj) {
  const auto* m = obj.if_contains("metadata");
  if (!m || !m->is_object() || m->as_object().contains("resourceVersion")) return nullptr;
  auto w = std::make_shared<PreparedWrite>();
  // json::serialize(obj), member by member, noting where metadata closes.
  std::string& out = w->value;
  out.reserve(1024);
  out += '{';
  bool first = true;
  for (const auto& member : obj) {
    if (!first) out += ',';
    first = false;
    out += json::serialize(member.key());
    out += ':';
    appendSerialized(out, member.value());
    if (&member.value() == m) w->metadataEnd = out.size() - 1;
  }
  out += '}';
  w->metadataEmpty = m->as_object().empty();
  w->object.key = key;
  indexCachedObject(storageType, obj, w->object);
  return w;
}

std::string storedJsonAt(const PreparedWrite& w, int64_t rv) {
  std::string rvText = std::to_string(rv);
  std::string out;
  out.reserve(w.value.size() + rvText.size() + 24);
  out.append(w.value, 0, w.metadataEnd);
  if (!w.metadataEmpty) out += ',';
  out += "\"resourceVersion\":\"";
  out += rvText;
  out += '"';
  out.append(w.value, w.metadataEnd, std::string::npos);
  return out;
}

}  // namespace berth::apiserver
