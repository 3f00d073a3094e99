#include "store/encryption/providers.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <mutex>

namespace berth::store::encryption {

namespace {

using core::Result;
using core::Status;

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// The part of the prefix every provider shares: k8s:enc:<type>:v1:<name>:
class PrefixedProvider : public Provider {
 public:
  PrefixedProvider(std::string type, Key key)
      : type_(std::move(type)),
        key_(std::move(key)),
        prefix_(std::string(kEncryptedPrefix) + type_ + ":v1:" + key_.name + ":") {}
  std::string_view type() const override { return type_; }
  bool matches(std::string_view stored) const override { return stored.starts_with(prefix_); }
  Result<std::string> encrypt(std::string_view plain) const override {
    auto sealed = seal(plain);
    if (!sealed.ok()) return sealed;
    return prefix_ + *sealed;
  }
  Result<std::string> decrypt(std::string_view stored) const override {
    if (!matches(stored)) return Status::internal("value not written by " + prefix_);
    return open(stored.substr(prefix_.size()));
  }

 protected:
  virtual Result<std::string> seal(std::string_view plain) const = 0;
  virtual Result<std::string> open(std::string_view sealed) const = 0;
  Status failed(std::string_view what) const {
    return Status::internal(type_ + " key \"" + key_.name + "\": " + std::string(what));
  }

  std::string type_;
  Key key_;
  std::string prefix_;
};

const EVP_CIPHER* aesGcmCipher(size_t keyBytes) {
  switch (keyBytes) {
    case 16:
      return EVP_aes_128_gcm();
    case 24:
      return EVP_aes_192_gcm();
    default:
      return EVP_aes_256_gcm();
  }
}

// AES-GCM as upstream's aes.NewGCMTransformer: nonce (12) || ciphertext || tag (16).
class AesGcm : public PrefixedProvider {
 public:
  explicit AesGcm(Key key) : PrefixedProvider("aesgcm", std::move(key)) {}

 protected:
  static constexpr size_t kNonce = 12, kTag = 16;
  Result<std::string> seal(std::string_view plain) const override {
    std::string nonce = randomBytes(kNonce);
    CipherCtx c;
    std::string out = nonce;
    out.resize(kNonce + plain.size() + kTag);
    int len = 0, fin = 0;
    if (EVP_EncryptInit_ex(c.ctx, aesGcmCipher(key_.secret.size()), nullptr, bytes(key_.secret),
                           bytes(nonce)) != 1 ||
        EVP_EncryptUpdate(c.ctx, bytes(out) + kNonce, &len, bytes(plain),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(c.ctx, bytes(out) + kNonce + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTag,
                            bytes(out) + kNonce + plain.size()) != 1)
      return failed("encryption failed");
    return out;
  }
  Result<std::string> open(std::string_view sealed) const override {
    if (sealed.size() < kNonce + kTag) return failed("stored value too short");
    std::string_view nonce = sealed.substr(0, kNonce);
    std::string_view body = sealed.substr(kNonce, sealed.size() - kNonce - kTag);
    std::string tag(sealed.substr(sealed.size() - kTag));
    CipherCtx c;
    std::string out(body.size(), '\0');
    int len = 0, fin = 0;
    if (EVP_DecryptInit_ex(c.ctx, aesGcmCipher(key_.secret.size()), nullptr, bytes(key_.secret),
                           bytes(nonce)) != 1 ||
        EVP_DecryptUpdate(c.ctx, bytes(out), &len, bytes(body), static_cast<int>(body.size())) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(c.ctx, bytes(out) + len, &fin) != 1)
      return failed("decryption failed (wrong key or corrupt value)");
    out.resize(static_cast<size_t>(len + fin));
    return out;
  }
};

// AES-CBC with PKCS#7 padding as upstream's aes.NewCBCTransformer: iv (16) || ciphertext.
class AesCbc : public PrefixedProvider {
 public:
  explicit AesCbc(Key key) : PrefixedProvider("aescbc", std::move(key)) {}

 protected:
  static constexpr size_t kIv = 16;
  Result<std::string> seal(std::string_view plain) const override {
    std::string iv = randomBytes(kIv);
    CipherCtx c;
    std::string out = iv;
    out.resize(kIv + plain.size() + 16);
    int len = 0, fin = 0;
    if (EVP_EncryptInit_ex(c.ctx, EVP_aes_256_cbc(), nullptr, bytes(key_.secret), bytes(iv)) !=
            1 ||
        EVP_EncryptUpdate(c.ctx, bytes(out) + kIv, &len, bytes(plain),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(c.ctx, bytes(out) + kIv + len, &fin) != 1)
      return failed("encryption failed");
    out.resize(kIv + static_cast<size_t>(len + fin));
    return out;
  }
  Result<std::string> open(std::string_view sealed) const override {
    if (sealed.size() < 2 * kIv || (sealed.size() - kIv) % 16 != 0)
      return failed("stored value is not a whole number of blocks");
    CipherCtx c;
    std::string out(sealed.size(), '\0');
    int len = 0, fin = 0;
    std::string_view body = sealed.substr(kIv);
    if (EVP_DecryptInit_ex(c.ctx, EVP_aes_256_cbc(), nullptr, bytes(key_.secret),
                           bytes(sealed.substr(0, kIv))) != 1 ||
        EVP_DecryptUpdate(c.ctx, bytes(out), &len, bytes(body), static_cast<int>(body.size())) !=
            1 ||
        EVP_DecryptFinal_ex(c.ctx, bytes(out) + len, &fin) != 1)
      return failed("decryption failed (wrong key or corrupt value)");
    out.resize(static_cast<size_t>(len + fin));
    return out;
  }
};

// NaCl secretbox (XSalsa20-Poly1305) as upstream's secretbox transformer: nonce (24) ||
// secretbox.Seal output (tag || ciphertext), which is libsodium's crypto_secretbox_easy.
class Secretbox : public PrefixedProvider {
 public:
  explicit Secretbox(Key key) : PrefixedProvider("secretbox", std::move(key)) {}

 protected:
  Result<std::string> seal(std::string_view plain) const override {
    std::string out = randomBytes(crypto_secretbox_NONCEBYTES);
    out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size());
    if (crypto_secretbox_easy(bytes(out) + crypto_secretbox_NONCEBYTES, bytes(plain), plain.size(),
                              bytes(out), bytes(key_.secret)) != 0)
      return failed("encryption failed");
    return out;
  }
  Result<std::string> open(std::string_view sealed) const override {
    if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
      return failed("stored value too short");
    std::string_view box = sealed.substr(crypto_secretbox_NONCEBYTES);
    std::string out(box.size() - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(bytes(out), bytes(box), box.size(), bytes(sealed),
                                   bytes(key_.secret)) != 0)
      return failed("decryption failed (wrong key or corrupt value)");
    return out;
  }
};

class Identity : public Provider {
 public:
  std::string_view type() const override { return "identity"; }
  bool matches(std::string_view stored) const override {
    return !stored.starts_with(kEncryptedPrefix);
  }
  Result<std::string> encrypt(std::string_view plain) const override {
    return std::string(plain);
  }
  Result<std::string> decrypt(std::string_view stored) const override {
    return std::string(stored);
  }
};

Status badKeySize(std::string_view type, const Key& key, std::string_view allowed) {
  return Status::badRequest(std::string(type) + " key \"" + key.name + "\" is " +
                            std::to_string(key.secret.size()) + " bytes; it must be " +
                            std::string(allowed) + " bytes (base64 of random bytes)");
}

}  // namespace

Result<std::unique_ptr<Provider>> makeAesGcm(Key key) {
  size_t n = key.secret.size();
  if (n != 16 && n != 24 && n != 32) return badKeySize("aesgcm", key, "16, 24 or 32");
  return std::unique_ptr<Provider>(new AesGcm(std::move(key)));
}

Result<std::unique_ptr<Provider>> makeAesCbc(Key key) {
  if (key.secret.size() != 32) return badKeySize("aescbc", key, "32");
  return std::unique_ptr<Provider>(new AesCbc(std::move(key)));
}

Result<std::unique_ptr<Provider>> makeSecretbox(Key key) {
  static std::once_flag once;
  std::call_once(once, [] { (void)sodium_init(); });
  if (key.secret.size() != crypto_secretbox_KEYBYTES) return badKeySize("secretbox", key, "32");
  return std::unique_ptr<Provider>(new Secretbox(std::move(key)));
}

std::unique_ptr<Provider> makeIdentity() { return std::make_unique<Identity>(); }

}  // namespace berth::store::encryption
