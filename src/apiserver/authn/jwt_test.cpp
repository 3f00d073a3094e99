#include "apiserver/authn/jwt.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "apiserver/authn/test_keys.h"

namespace berth::apiserver::authn {
namespace {

namespace json = boost::json;

std::shared_ptr<const KeySet> keysOf(const std::string& pem,
                                     const std::vector<std::string>& more = {}) {
  auto k = KeySet::fromPem(pem, more);
  EXPECT_TRUE(k.ok()) << k.status().message();
  return *k;
}

const std::string& rsaPem() { return testing::kRsaPemA; }

TEST(Base64Url, RoundTripsAndRejectsPaddingAndOtherAlphabets) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    auto enc = base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(base64UrlDecode(enc), s);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64UrlDecode("Zm9v=").has_value());
  EXPECT_FALSE(base64UrlDecode("a+b/").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9vY").has_value());  // 5 chars cannot be whole bytes
  EXPECT_FALSE(base64UrlDecode("Zh").has_value());     // non-zero trailing bits
}

TEST(Jwt, SignedTokenVerifiesAndCarriesKidAndClaims) {
  auto keys = keysOf(rsaPem());
  EXPECT_EQ(keys->signingAlg(), "RS256");
  auto token = signJwt(*keys, json::object{{"sub", "x"}, {"n", 1}});
  ASSERT_TRUE(token.ok());
  auto header = base64UrlDecode(token->substr(0, token->find('.')));
  ASSERT_TRUE(header.has_value());
  auto h = json::parse(*header).as_object();
  EXPECT_EQ(h["alg"], "RS256");
  EXPECT_EQ(h["kid"].as_string(), keys->signingKid());
  auto claims = verifyJwt(*keys, *token);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ((*claims)["sub"], "x");
}

TEST(Jwt, Es256KeysSignAndVerify) {
  auto keys = keysOf(KeySet::generatePem("EC"));
  EXPECT_EQ(keys->signingAlg(), "ES256");
  auto token = signJwt(*keys, json::object{{"sub", "y"}});
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(verifyJwt(*keys, *token).ok());
  auto jwk = keys->jwks()["keys"].as_array()[0].as_object();
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(base64UrlDecode(jwk["x"].as_string())->size(), 32u);
}

TEST(Jwt, RejectsWrongKeyAlgNoneTamperingAndGarbage) {
  auto keys = keysOf(rsaPem());
  auto other = keysOf(testing::kRsaPemB);
  auto token = *signJwt(*other, json::object{{"sub", "x"}});
  EXPECT_EQ(verifyJwt(*keys, token).status().code(), 401);

  std::string none = base64UrlEncode(R"({"alg":"none"})") + "." +
                     base64UrlEncode(R"({"sub":"admin"})") + ".";
  EXPECT_FALSE(verifyJwt(*keys, none).ok());
  std::string noneSigned = base64UrlEncode(R"({"alg":"none"})") + "." +
                           base64UrlEncode(R"({"sub":"admin"})") + ".AAAA";
  EXPECT_FALSE(verifyJwt(*keys, noneSigned).ok());
  std::string hs = base64UrlEncode(R"({"alg":"HS256"})") + "." + base64UrlEncode("{}") + ".AAAA";
  EXPECT_FALSE(verifyJwt(*keys, hs).ok());

  auto good = *signJwt(*keys, json::object{{"sub", "x"}});
  size_t first = good.find('.');
  size_t second = good.find('.', first + 1);
  std::string swapped = good.substr(0, first + 1) + base64UrlEncode(R"({"sub":"admin"})") +
                        good.substr(second);
  EXPECT_FALSE(verifyJwt(*keys, swapped).ok());
  for (std::string bad : {"", ".", "..", "a.b", "a.b.c.d", "a..c", "!!.??.**"})
    EXPECT_FALSE(verifyJwt(*keys, bad).ok()) << bad;
}

TEST(Jwt, RotationAcceptsTokensOfEveryConfiguredKey) {
  std::string oldPem = testing::kRsaPemB;
  auto oldKeys = keysOf(oldPem);
  auto token = *signJwt(*oldKeys, json::object{{"sub", "x"}});
  auto rotated = keysOf(rsaPem(), {oldPem});
  EXPECT_EQ(rotated->size(), 2u);
  EXPECT_TRUE(verifyJwt(*rotated, token).ok());
  EXPECT_EQ(rotated->jwks()["keys"].as_array().size(), 2u);
  EXPECT_FALSE(verifyJwt(*keysOf(rsaPem()), token).ok());
}

// Property: whatever bytes arrive, verification answers (almost always "no"), never crashes,
// and a token only verifies when it is exactly one that was signed.
TEST(Jwt, MutatedAndRandomTokensNeverVerify) {
  auto keys = keysOf(rsaPem());
  auto good = *signJwt(*keys, json::object{{"sub", "x"}, {"aud", json::array{"a"}}});
  std::mt19937 rng(12345);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00\xff{}\"";
  for (int i = 0; i < 3000; ++i) {
    std::string t = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.erase(pos, 1 + rng() % 8); break;
        default: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (t.empty()) t = "x";
    }
    if (t == good) continue;
    auto r = verifyJwt(*keys, t);
    // A mutation inside the signature's last character's padding bits is rejected as
    // non-canonical; anything else changes signed bytes.
    EXPECT_FALSE(r.ok()) << t;
    if (!r.ok()) EXPECT_EQ(r.status().code(), 401);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string t(rng() % 300, '\0');
    for (auto& c : t) c = static_cast<char>(rng());
    EXPECT_FALSE(verifyJwt(*keys, t).ok());
  }
}

}  // namespace
}  // namespace berth::apiserver::authn
