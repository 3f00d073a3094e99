#pragma once
// The keys ServiceAccount tokens are signed and verified with, as upstream's
// --service-account-signing-key-file (one private key that signs) and --service-account-key-file
// (any number of keys that verify). Rotation is adding a key: tokens signed by an older key stay
// valid as long as its key (private or public PEM) is still among the verification keys.
//
// Algorithms: RS256 (RSA, the default generated key: 2048 bits) and ES256 (EC P-256). Each key
// has upstream's key id: base64url(SHA-256(DER of the PKIX public key)), which tokens carry in
// their header ("kid") and the JWKS document publishes.
//
// Thread-safety: immutable after construction; sign() and verify() may run concurrently.
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::apiserver::authn {

class KeySet {
 public:
  struct Key;  // an OpenSSL public (or private) key with its kid and alg
  ~KeySet();
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;

  // The signing key from `signingKeyPath` (PEM RSA or EC P-256 private key); when the file is
  // missing an EC P-256 key (ES256) is generated and written with mode 0600. Every PEM key in
  // `verifyPaths` (files, or directories whose *.pem/*.key/*.pub files are read) also verifies.
  static core::Result<std::shared_ptr<const KeySet>> loadOrCreate(
      const std::string& signingKeyPath, const std::vector<std::string>& verifyPaths);
  // From PEM text (tests): the signing key, plus keys that only verify.
  static core::Result<std::shared_ptr<const KeySet>> fromPem(
      std::string_view signingPem, const std::vector<std::string>& verifyPems = {});
  // A new private key in PEM (tests and first start): "RSA" (2048 bits) or "EC" (P-256).
  static std::string generatePem(std::string_view type = "RSA");

  const std::string& signingAlg() const;  // "RS256" or "ES256"
  const std::string& signingKid() const;
  // The JWS signature of `input` by the signing key (ES256: R||S, 64 bytes).
  core::Result<std::string> sign(std::string_view input) const;
  // True when a key of algorithm `alg` verifies `signature` over `input`. A non-empty `kid`
  // selects the key; without one every key of the algorithm is tried (upstream does the same).
  bool verify(std::string_view alg, std::string_view kid, std::string_view input,
              std::string_view signature) const;
  // The public keys as a JSON Web Key Set ({"keys":[{use,kty,kid,alg,n,e | crv,x,y}]}).
  boost::json::object jwks() const;
  size_t size() const { return keys_.size(); }

 private:
  KeySet() = default;
  std::vector<std::unique_ptr<Key>> keys_;  // [0] signs; all verify; no kid twice
};

}  // namespace berth::apiserver::authn
