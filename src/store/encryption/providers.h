#pragma once
// The value transformers of upstream's EncryptionConfiguration: each encrypts a stored value
// under its own prefix, `k8s:enc:<type>:v1:<key name>:`, followed by the type's nonce or IV
// and ciphertext, byte for byte as kube-apiserver writes them (so a store written by one can be
// read by the other, given the keys). `identity` writes plaintext and reads anything that
// carries no `k8s:enc:` prefix.
//
// Thread-safety: providers are immutable after construction; encrypt/decrypt may run
// concurrently.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::store::encryption {

class Provider {
 public:
  virtual ~Provider() = default;
  // "aesgcm", "aescbc", "secretbox" or "identity".
  virtual std::string_view type() const = 0;
  // Whether `stored` was written by this provider (its prefix; identity: no k8s:enc: prefix).
  virtual bool matches(std::string_view stored) const = 0;
  virtual core::Result<std::string> encrypt(std::string_view plain) const = 0;
  virtual core::Result<std::string> decrypt(std::string_view stored) const = 0;
};

// One key of a provider: its name and raw secret bytes (decoded from the config's base64).
struct Key {
  std::string name;
  std::string secret;
};

// Errors name the key and the required sizes: aesgcm takes 16, 24 or 32 bytes, aescbc and
// secretbox 32.
core::Result<std::unique_ptr<Provider>> makeAesGcm(Key key);
core::Result<std::unique_ptr<Provider>> makeAesCbc(Key key);
core::Result<std::unique_ptr<Provider>> makeSecretbox(Key key);
std::unique_ptr<Provider> makeIdentity();

constexpr std::string_view kEncryptedPrefix = "k8s:enc:";

}  // namespace berth::store::encryption
