#include "apiserver/authn/jwt.h"

#include <boost/json.hpp>

#include <array>

namespace berth::apiserver::authn {

namespace json = boost::json;
using core::Result;
using core::Status;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> decodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = decodeTable();

Status invalid(std::string why) { return Status::unauthorized("invalid bearer token, " + why); }

std::optional<json::object> parseObject(std::string_view part) {
  auto text = base64UrlDecode(part);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto u = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t n = u(i) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t n = (u(i) << 16) | (u(i + 1) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero (canonical encoding), as Go's RawURLEncoding.Strict checks.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<std::string> signJwt(const KeySet& keys, const json::object& claims) {
  json::object header{{"alg", keys.signingAlg()}, {"kid", keys.signingKid()}};
  std::string input =
      base64UrlEncode(json::serialize(header)) + "." + base64UrlEncode(json::serialize(claims));
  auto sig = keys.sign(input);
  if (!sig.ok()) return sig.status();
  return input + "." + base64UrlEncode(*sig);
}

bool looksLikeJwt(std::string_view token) {
  if (token.empty() || token.size() > kMaxJwtBytes) return false;
  size_t dots = 0;
  char prev = '.';
  for (char c : token) {
    if (c == '.') {
      if (prev == '.') return false;
      ++dots;
    } else if (kDecode[static_cast<unsigned char>(c)] < 0) {
      return false;
    }
    prev = c;
  }
  return dots == 2 && prev != '.';
}

Result<json::object> verifyJwt(const KeySet& keys, std::string_view token) {
  if (!looksLikeJwt(token)) return invalid("not a compact JWS");
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  auto header = parseObject(token.substr(0, first));
  if (!header) return invalid("malformed header");
  auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string()) return invalid("no signing algorithm");
  std::string_view algName = alg->as_string();
  if (algName != "RS256" && algName != "ES256")
    return invalid("unsupported signing algorithm \"" + std::string(algName) + "\"");
  if (header->contains("crit")) return invalid("unsupported critical header");
  std::string kid;
  if (auto* k = header->if_contains("kid")) {
    if (!k->is_string()) return invalid("malformed key id");
    kid = std::string(k->as_string());
  }
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!signature) return invalid("malformed signature");
  if (!keys.verify(algName, kid, token.substr(0, second), *signature))
    return invalid("signature verification failed");
  auto claims = parseObject(token.substr(first + 1, second - first - 1));
  if (!claims) return invalid("malformed claims");
  return std::move(*claims);
}

}  // namespace berth::apiserver::authn
