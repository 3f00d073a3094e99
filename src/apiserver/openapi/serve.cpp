#include "apiserver/openapi/serve.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "apiserver/openapi/gzip.h"
#include "apiserver/openapi/openapi.h"

namespace berth::apiserver::openapi {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProtobufV2 =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
// What kubectl 1.20–1.28 send; upstream answers it, labelled with the current name.
constexpr std::string_view kProtobufV2Deprecated =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
constexpr std::string_view kV2Prefix = "/openapi/v2";
constexpr std::string_view kV3Prefix = "/openapi/v3";

constexpr std::string_view kNotAcceptable =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"only the following media types are accepted: application/json, )"
    R"(application/com.github.proto-openapi.spec.v2.v1.0+protobuf for /openapi/v2",)"
    R"("reason":"NotAcceptable","code":406})";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One element of a comma-separated header with q values (Accept, Accept-Encoding).
struct Weighted {
  std::string_view value;  // without parameters
  double q = 1;
};

std::vector<Weighted> parseWeighted(std::string_view header) {
  std::vector<Weighted> out;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = item.find(';');
    Weighted w{trim(item.substr(0, semi))};
    while (semi != std::string_view::npos) {
      item = item.substr(semi + 1);
      semi = item.find(';');
      std::string_view param = trim(item.substr(0, semi));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        w.q = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
      }
    }
    if (!w.value.empty()) out.push_back(w);
  }
  return out;
}

struct MediaRange {
  std::string_view type;
  std::string_view subtype;
  double q = 1;
};

// Accept's media ranges, most preferred first: q descending, then specific before wildcard
// (goautoneg's order, which upstream's handlers use). q=0 means "not acceptable": dropped.
std::vector<MediaRange> parseAccept(std::string_view accept) {
  if (trim(accept).empty()) accept = "*/*";
  std::vector<MediaRange> out;
  for (const Weighted& w : parseWeighted(accept)) {
    size_t slash = w.value.find('/');
    if (w.q <= 0 || (slash == std::string_view::npos && w.value != "*")) continue;
    if (w.value == "*") {
      out.push_back({"*", "*", w.q});
    } else {
      out.push_back({trim(w.value.substr(0, slash)), trim(w.value.substr(slash + 1)), w.q});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const MediaRange& a, const MediaRange& b) {
    if (a.q != b.q) return a.q > b.q;
    if ((a.type != "*") != (b.type != "*")) return a.type != "*";
    return a.subtype != "*" && b.subtype == "*";
  });
  return out;
}

// Whether Accept-Encoding admits gzip: "gzip" (or "x-gzip", or "*") listed with a q above 0.
bool acceptsGzip(std::string_view acceptEncoding) {
  for (const Weighted& w : parseWeighted(acceptEncoding)) {
    if (w.value == "gzip" || w.value == "x-gzip" || w.value == "*") return w.q > 0;
  }
  return false;
}

bool matches(const MediaRange& r, std::string_view media) {
  size_t slash = media.find('/');
  return (r.type == "*" || r.type == media.substr(0, slash)) &&
         (r.subtype == "*" || r.subtype == media.substr(slash + 1));
}

// The first of `offered` (the server's order) that the client's most preferred range accepts.
std::optional<std::string_view> negotiate(std::string_view accept,
                                          std::initializer_list<std::string_view> offered) {
  for (const MediaRange& r : parseAccept(accept)) {
    for (std::string_view media : offered) {
      if (matches(r, media)) return media;
    }
  }
  return std::nullopt;
}

std::string quoted(std::string_view hash) { return "\"" + std::string(hash) + "\""; }

// If-None-Match: "*" or a comma-separated list of (possibly weak, W/"...") entity tags,
// compared weakly as RFC 9110 asks for GET.
bool noneMatchHits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

// A 200 with the document (gzip-compressed when the client takes it), or a 304 when the
// client already holds it.
Reply document(const ServeRequest& req, std::string_view contentType, const Served& doc) {
  Reply r;
  r.headers.emplace_back("ETag", quoted(doc.hash));
  if (noneMatchHits(req.ifNoneMatch, r.headers.back().second)) {
    r.status = 304;
    return r;
  }
  r.contentType = std::string(contentType);
  r.body = doc.body;
  r.owner = doc.owner;
  if (!doc.gzipped.empty() && acceptsGzip(req.acceptEncoding)) {
    r.body = doc.gzipped;
    r.headers.emplace_back("Content-Encoding", "gzip");
  }
  return r;
}

Reply notAcceptable() {
  Reply r;
  r.status = 406;
  r.contentType = std::string(kJson);
  r.body = kNotAcceptable;
  return r;
}

// "Expires" one year from now in the HTTP date format, as upstream marks hashed URLs.
std::string expiresInAYear() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                       std::chrono::days(365));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<Reply> serveV2(const ServeRequest& req) {
  auto media = negotiate(req.accept, {kJson, kProtobufV2Deprecated, kProtobufV2});
  if (!media) return notAcceptable();
  Reply r = *media == kJson ? document(req, kJson, servedV2(false))
                            : document(req, kProtobufV2, servedV2(true));
  r.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  return r;
}

std::optional<Reply> serveV3(const ServeRequest& req, std::string_view groupVersion) {
  if (groupVersion.empty()) {
    Reply r = document(req, kJson, servedV3Index());
    r.headers.emplace_back("Vary", "Accept-Encoding");
    return r;
  }
  auto doc = servedV3(groupVersion);
  if (!doc) return std::nullopt;
  if (!negotiate(req.accept, {kJson})) return notAcceptable();
  std::string_view hash = doc->hash;
  if (!req.hash.empty() && req.hash != hash) {
    Reply r;
    r.status = 301;
    r.headers.emplace_back("Location", std::string(kV3Prefix) + "/" + std::string(groupVersion) +
                                           "?hash=" + std::string(hash));
    return r;
  }
  Reply r = document(req, kJson, *doc);
  r.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  if (!req.hash.empty()) {
    r.headers.emplace_back("Cache-Control", "public, immutable");
    r.headers.emplace_back("Expires", expiresInAYear());
  }
  return r;
}

}  // namespace

std::optional<Reply> serve(const ServeRequest& req) {
  std::string_view path = req.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == kV2Prefix) return serveV2(req);
  if (path.substr(0, kV3Prefix.size()) != kV3Prefix) return std::nullopt;
  std::string_view rest = path.substr(kV3Prefix.size());
  if (!rest.empty() && rest.front() != '/') return std::nullopt;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return serveV3(req, rest);
}

}  // namespace berth::apiserver::openapi
