#include "apiserver/authn/keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apiserver/authn/jwt.h"

namespace berth::apiserver::authn {

namespace fs = std::filesystem;
namespace json = boost::json;
using core::Result;
using core::Status;

struct KeySet::Key {
  EVP_PKEY* pkey = nullptr;
  std::string alg;  // RS256 | ES256
  std::string kid;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, CtxFree>;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Private key first, then public key (SubjectPublicKeyInfo), then an X.509 certificate's key.
EVP_PKEY* parsePem(std::string_view pem, bool wantPrivate) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (k || wantPrivate) return k;
  bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (k) return k;
  bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    k = X509_get_pubkey(cert);
    X509_free(cert);
  }
  return k;
}

std::string algOf(EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
      return EVP_PKEY_get_bits(k) >= 2048 ? "RS256" : "";
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) != 1)
        return "";
      return std::string_view(group) == "prime256v1" ? "ES256" : "";
    }
    default:
      return "";
  }
}

// Upstream's keyIDFromPublicKey: the unpadded base64url SHA-256 of the PKIX public key's DER.
std::string kidOf(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(k, &der);
  if (len <= 0) return "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(len), digest);
  OPENSSL_free(der);
  return base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

Result<std::unique_ptr<KeySet::Key>> makeKey(std::string_view pem, bool wantPrivate) {
  EVP_PKEY* pkey = parsePem(pem, wantPrivate);
  if (!pkey) return Status::internal("not a PEM key (RSA or EC P-256)");
  auto key = std::make_unique<KeySet::Key>();
  key->pkey = pkey;
  key->alg = algOf(pkey);
  if (key->alg.empty()) return Status::internal("unsupported key: RSA >= 2048 bits or EC P-256");
  key->kid = kidOf(pkey);
  return key;
}

std::string bnParam(EVP_PKEY* k, const char* name, size_t width = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return "";
  size_t n = width ? width : static_cast<size_t>(BN_num_bytes(bn));
  std::string out(n, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  BN_free(bn);
  return base64UrlEncode(out);
}

// JWS ES256 signatures are R||S (32 bytes each); OpenSSL speaks DER ECDSA-Sig-Value.
std::string derToRaw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return "";
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data() + 32), 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string rawToDer(std::string_view raw) {
  if (raw.size() != 64) return "";
  const auto* u = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(u, 32, nullptr), BN_bin2bn(u + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

void addVerifyFiles(const std::string& path, std::vector<std::string>& pems) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".pem" || ext == ".key" || ext == ".pub"))
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) pems.push_back(readAll(f.string()));
  } else if (fs::exists(path, ec)) {
    pems.push_back(readAll(path));
  }
}

}  // namespace

KeySet::~KeySet() = default;

std::string KeySet::generatePem(std::string_view type) {
  EVP_PKEY* k = type == "EC" ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  if (!k) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  EVP_PKEY_free(k);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::shared_ptr<const KeySet>> KeySet::fromPem(std::string_view signingPem,
                                                      const std::vector<std::string>& verifyPems) {
  std::shared_ptr<KeySet> set(new KeySet());
  auto signing = makeKey(signingPem, true);
  if (!signing.ok()) return Status::internal("service account signing key: " +
                                             signing.status().message());
  set->keys_.push_back(std::move(*signing));
  for (const auto& pem : verifyPems) {
    auto k = makeKey(pem, false);
    if (!k.ok()) return Status::internal("service account key: " + k.status().message());
    bool known = false;
    for (const auto& have : set->keys_) known = known || have->kid == (*k)->kid;
    if (!known) set->keys_.push_back(std::move(*k));
  }
  return std::shared_ptr<const KeySet>(std::move(set));
}

Result<std::shared_ptr<const KeySet>> KeySet::loadOrCreate(
    const std::string& signingKeyPath, const std::vector<std::string>& verifyPaths) {
  std::error_code ec;
  if (!fs::exists(signingKeyPath, ec)) {
    std::string pem = generatePem("EC");
    std::string tmp = signingKeyPath + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      ::chmod(tmp.c_str(), 0600);
      out << pem;
      if (!out.flush()) return Status::internal("cannot write " + tmp);
    }
    fs::rename(tmp, signingKeyPath, ec);
    if (ec) return Status::internal("cannot write " + signingKeyPath + ": " + ec.message());
  }
  std::vector<std::string> pems;
  for (const auto& p : verifyPaths) addVerifyFiles(p, pems);
  auto set = fromPem(readAll(signingKeyPath), pems);
  if (!set.ok()) return Status::internal(signingKeyPath + ": " + set.status().message());
  return set;
}

const std::string& KeySet::signingAlg() const { return keys_.front()->alg; }
const std::string& KeySet::signingKid() const { return keys_.front()->kid; }

Result<std::string> KeySet::sign(std::string_view input) const {
  const Key& key = *keys_.front();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Status::internal("cannot sign the token");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Status::internal("cannot sign the token");
  sig.resize(len);
  if (key.alg == "ES256") sig = derToRaw(sig);
  return sig;
}

bool KeySet::verify(std::string_view alg, std::string_view kid, std::string_view input,
                    std::string_view signature) const {
  for (const auto& key : keys_) {
    if (key->alg != alg || (!kid.empty() && key->kid != kid)) continue;
    std::string der;
    std::string_view sig = signature;
    if (alg == "ES256") {
      der = rawToDer(signature);
      if (der.empty()) return false;
      sig = der;
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->pkey) != 1) continue;
    if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1)
      return true;
  }
  return false;
}

json::object KeySet::jwks() const {
  json::array keys;
  for (const auto& key : keys_) {
    json::object jwk{{"use", "sig"}, {"kid", key->kid}, {"alg", key->alg}};
    if (key->alg == "RS256") {
      jwk["kty"] = "RSA";
      jwk["n"] = bnParam(key->pkey, OSSL_PKEY_PARAM_RSA_N);
      jwk["e"] = bnParam(key->pkey, OSSL_PKEY_PARAM_RSA_E);
    } else {
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = bnParam(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
      jwk["y"] = bnParam(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    }
    keys.push_back(std::move(jwk));
  }
  return json::object{{"keys", std::move(keys)}};
}

}  // namespace berth::apiserver::authn
