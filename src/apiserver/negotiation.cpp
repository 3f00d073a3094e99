#include "apiserver/negotiation.h"

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/wire.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kYamlType = "application/yaml";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Clause {
  std::string type, subtype;
  std::vector<std::pair<std::string, std::string>> params;  // without q
  double q = 1.0;
  int specificity = 0;  // */* < type/* < type/subtype
};

std::vector<Clause> parseAccept(std::string_view accept) {
  std::vector<Clause> out;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view part = trim(accept.substr(start, end - start));
    start = end + 1;
    if (part.empty()) continue;
    Clause c;
    size_t semi = part.find(';');
    std::string_view range = trim(part.substr(0, semi));
    size_t slash = range.find('/');
    if (slash == std::string_view::npos) {
      if (range != "*") continue;  // malformed: ignored, as goautoneg does
      c.type = c.subtype = "*";
    } else {
      c.type = lower(trim(range.substr(0, slash)));
      c.subtype = lower(trim(range.substr(slash + 1)));
    }
    while (semi != std::string_view::npos) {
      size_t next = part.find(';', semi + 1);
      std::string_view p = trim(part.substr(
          semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1));
      semi = next;
      size_t eq = p.find('=');
      if (p.empty()) continue;
      std::string key = lower(trim(p.substr(0, eq)));
      std::string value(eq == std::string_view::npos ? "" : trim(p.substr(eq + 1)));
      if (key == "q") {
        char* endp = nullptr;
        c.q = std::strtod(value.c_str(), &endp);
        if (endp == value.c_str()) c.q = 0;
      } else {
        c.params.emplace_back(std::move(key), std::move(value));
      }
    }
    c.specificity = c.type == "*" ? 0 : c.subtype == "*" ? 1 : 2;
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const Clause& a, const Clause& b) {
    if (a.q != b.q) return a.q > b.q;
    return a.specificity > b.specificity;
  });
  return out;
}

// The media a clause selects, if Berth serves it.
std::optional<OutputMedia> match(const Clause& c, bool stream) {
  OutputMedia m;
  if (c.type == "*" || (c.type == "application" && c.subtype == "*")) {
    m.kind = MediaKind::kJson;
  } else if (c.type != "application") {
    return std::nullopt;
  } else if (c.subtype == "json") {
    m.kind = MediaKind::kJson;
  } else if (c.subtype == "yaml" && !stream) {
    m.kind = MediaKind::kYaml;
  } else if (c.subtype == "vnd.kubernetes.protobuf") {
    m.kind = MediaKind::kProtobuf;
  } else {
    return std::nullopt;
  }
  std::string as, g, v;
  for (const auto& [key, value] : c.params) {
    if (key == "as") {
      as = value;
    } else if (key == "g") {
      g = value;
    } else if (key == "v") {
      v = value;
    } else if (key == "stream") {
      if (value != "watch") return std::nullopt;
    } else if (key != "pretty" && key != "charset") {
      return std::nullopt;  // an unknown parameter: do not send what the client cannot read
    }
  }
  if (!as.empty()) {
    if (g != "meta.k8s.io" || (v != "v1" && v != "v1beta1")) return std::nullopt;
    if (as == "Table") {
      // Tables are served as JSON or YAML (upstream has no protobuf form for them).
      if (m.kind == MediaKind::kProtobuf) return std::nullopt;
      m.table = true;
    } else if (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") {
      // Berth's protobuf schema has meta.k8s.io/v1 only: a v1beta1 client's JSON clause is used.
      if (m.kind == MediaKind::kProtobuf && v != "v1") return std::nullopt;
      m.partial = as == "PartialObjectMetadata" ? PartialMetadata::kObject : PartialMetadata::kList;
      m.metaVersion = v;
    } else {
      return std::nullopt;
    }
  }
  return m;
}

bool transforms(const OutputMedia& m) { return m.table || m.partial != PartialMetadata::kNone; }

// A string that a YAML 1.1 or 1.2 reader takes back as the same string when written plain.
bool plainSafe(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  unsigned char first = static_cast<unsigned char>(s.front());
  if (!std::isalpha(first) && first != '/' && first != '_') return false;
  if (s.back() == ' ' || s.back() == ':') return false;
  static const char* kReserved[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null"};
  std::string l = lower(s);
  for (const char* r : kReserved)
    if (l == r) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isalnum(c) || std::string_view("._/-=+@()").find(char(c)) != std::string_view::npos)
      continue;
    if (c == ' ' && i + 1 < s.size() && s[i + 1] != '#') continue;
    if (c == ':' && i + 1 < s.size() && s[i + 1] != ' ') continue;
    return false;
  }
  return true;
}

void emitScalar(const json::value& v, std::string& out) {
  if (v.is_string()) {
    std::string_view s = v.as_string();
    out += plainSafe(s) ? std::string(s) : json::serialize(v);  // JSON strings are valid YAML
  } else {
    out += json::serialize(v);
  }
}

bool isEmptyContainer(const json::value& v) {
  return (v.is_object() && v.as_object().empty()) || (v.is_array() && v.as_array().empty());
}

void emit(const json::value& v, int indent, std::string& out, bool inlineFirst);

void emitObject(const json::object& o, int indent, std::string& out, bool inlineFirst) {
  std::vector<const json::key_value_pair*> kvs;
  kvs.reserve(o.size());
  for (const auto& kv : o) kvs.push_back(&kv);
  std::sort(kvs.begin(), kvs.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  bool first = true;
  for (const auto* kv : kvs) {
    if (!(first && inlineFirst)) out.append(indent, ' ');
    first = false;
    emitScalar(json::value(kv->key()), out);
    out += ':';
    const json::value& val = kv->value();
    if (val.is_object() && !val.as_object().empty()) {
      out += '\n';
      emit(val, indent + 2, out, false);
    } else if (val.is_array() && !val.as_array().empty()) {
      out += '\n';
      emit(val, indent, out, false);  // sequences in maps are not indented (go-yaml)
    } else {
      out += ' ';
      if (isEmptyContainer(val)) {
        out += val.is_object() ? "{}" : "[]";
      } else {
        emitScalar(val, out);
      }
      out += '\n';
    }
  }
}

void emit(const json::value& v, int indent, std::string& out, bool inlineFirst) {
  if (v.is_object() && !v.as_object().empty()) {
    emitObject(v.as_object(), indent, out, inlineFirst);
  } else if (v.is_array() && !v.as_array().empty()) {
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!(first && inlineFirst)) out.append(indent, ' ');
      first = false;
      out += "- ";
      if (!isEmptyContainer(item) && (item.is_object() || item.is_array())) {
        emit(item, indent + 2, out, true);
      } else {
        if (isEmptyContainer(item)) {
          out += item.is_object() ? "{}" : "[]";
        } else {
          emitScalar(item, out);
        }
        out += '\n';
      }
    }
  } else {
    if (!inlineFirst) out.append(indent, ' ');
    if (isEmptyContainer(v)) {
      out += v.is_object() ? "{}" : "[]";
    } else {
      emitScalar(v, out);
    }
    out += '\n';
  }
}

}  // namespace

std::string OutputMedia::contentType() const {
  switch (kind) {
    case MediaKind::kYaml:
      return std::string(kYamlType);
    case MediaKind::kProtobuf:
      return std::string(protobuf::kMediaType);
    case MediaKind::kJson:
      break;
  }
  return std::string(kJsonType);
}

core::Result<OutputMedia> negotiateOutput(std::string_view accept, bool stream) {
  if (trim(accept).empty()) return OutputMedia{};
  auto clauses = parseAccept(accept);
  std::optional<OutputMedia> chosen;
  std::optional<MediaKind> plain;  // the first clause without a transformation
  for (const auto& c : clauses) {
    if (c.q <= 0) continue;
    auto m = match(c, stream);
    if (!m) continue;
    if (!plain && !transforms(*m)) plain = m->kind;
    if (!chosen) {
      chosen = m;
    } else if (stream && chosen->kind != MediaKind::kJson && m->kind == MediaKind::kJson &&
               transforms(*m) == transforms(*chosen)) {
      // A watch is encoded once per event for all its watchers, in JSON: protobuf only for a
      // client that accepts nothing else (client-go sends "protobuf, json" and reads either).
      chosen = m;
    }
  }
  if (chosen) {
    chosen->statusKind = plain.value_or(MediaKind::kJson);
    return *chosen;
  }
  return core::Status::notAcceptable(
      stream ? "only the following media types are accepted: application/json, "
               "application/vnd.kubernetes.protobuf"
             : "only the following media types are accepted: application/json, "
               "application/yaml, application/vnd.kubernetes.protobuf");
}

std::string protobufWatchFrames(std::string_view jsonLines) {
  std::string out;
  size_t start = 0;
  while (start < jsonLines.size()) {
    size_t end = jsonLines.find('\n', start);
    if (end == std::string_view::npos) end = jsonLines.size();
    std::string_view line = jsonLines.substr(start, end - start);
    start = end + 1;
    boost::system::error_code ec;
    json::value ev = json::parse(line, ec);
    if (ec || !ev.is_object()) continue;
    const auto* type = ev.as_object().if_contains("type");
    const auto* obj = ev.as_object().if_contains("object");
    if (!type || !type->is_string() || !obj || !obj->is_object()) continue;
    auto inner = protobuf::encodeEnvelope(obj->as_object());
    if (!inner.ok()) continue;
    std::string raw, event, envelope(protobuf::kMagic);
    protobuf::internal::putBytesField(raw, 1, *inner);
    protobuf::internal::putBytesField(event, 1, type->as_string());
    protobuf::internal::putBytesField(event, 2, raw);
    protobuf::internal::putBytesField(envelope, 1, "");  // typeMeta
    protobuf::internal::putBytesField(envelope, 2, event);
    protobuf::internal::putBytesField(envelope, 3, "");
    protobuf::internal::putBytesField(envelope, 4, "");
    uint32_t n = uint32_t(envelope.size());
    out.push_back(char(n >> 24));
    out.push_back(char(n >> 16));
    out.push_back(char(n >> 8));
    out.push_back(char(n));
    out += envelope;
  }
  return out;
}

std::string jsonToYaml(const json::value& v) {
  std::string out;
  emit(v, 0, out, false);
  return out;
}

std::string encodeResponse(const OutputMedia& media, std::string body, std::string& contentType) {
  if (media.kind != MediaKind::kJson) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && media.kind == MediaKind::kYaml) {
      contentType = kYamlType;
      return jsonToYaml(v);
    }
    if (!ec && v.is_object()) {
      if (auto pb = protobuf::encodeEnvelope(v.as_object()); pb.ok()) {
        contentType = protobuf::kMediaType;
        return std::move(*pb);
      }
    }
  }
  contentType = kJsonType;
  body += '\n';
  return body;
}

}  // namespace berth::apiserver
