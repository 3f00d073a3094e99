// Request accessors and request-target parsing (see internal/target.h).
#include <cctype>

#include "apiserver/http/internal/target.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::http {

std::string Request::queryParam(std::string_view key) const {
  auto it = query.find(std::string(key));
  return it == query.end() ? std::string() : it->second;
}

bool Request::hasQueryParam(std::string_view key) const {
  return query.find(std::string(key)) != query.end();
}

std::string Request::header(std::string_view lowerName) const {
  auto it = headers.find(std::string(lowerName));
  return it == headers.end() ? std::string() : it->second;
}

bool Request::isUpgrade() const {
  // "Connection" is a comma-separated token list ("keep-alive, Upgrade"); tokens are
  // case-insensitive.
  std::string connection = header("connection");
  for (char& c : connection) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return connection.find("upgrade") != std::string::npos && !header("upgrade").empty();
}

namespace internal {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view in, bool plusIsSpace) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;  // needs two hex digits
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<ParsedTarget> parseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  ParsedTarget parsed;
  size_t q = target.find('?');
  std::string_view rawPath = target.substr(0, q);
  // A fragment never reaches a server, but do not let one leak into the path or query.
  std::string_view rawQuery =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (size_t hash = rawQuery.find('#'); hash != std::string_view::npos) {
    rawQuery = rawQuery.substr(0, hash);
  }
  auto path = percentDecode(rawPath, false);
  if (!path) return std::nullopt;
  parsed.path = std::move(*path);
  while (!rawQuery.empty()) {
    size_t amp = rawQuery.find('&');
    std::string_view pair = rawQuery.substr(0, amp);
    rawQuery = amp == std::string_view::npos ? std::string_view() : rawQuery.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = percentDecode(pair.substr(0, eq), true);
    std::string_view rawValue =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto value = percentDecode(rawValue, true);
    if (!key || !value) return std::nullopt;
    parsed.query.emplace(std::move(*key), std::move(*value));
  }
  return parsed;
}

}  // namespace internal
}  // namespace berth::apiserver::http
