// The client-certificate authenticator (http::internal::peerCertificateUser after a real TLS
// handshake over an in-memory BIO pair) against hostile certificates: random byte mutations of
// a valid certificate, self-signed and expired ones, a serverAuth-only one, undecodable name
// strings and broken chains never crash and never authenticate; a valid leaf (and a valid
// leaf + intermediate chain) with CN and O still does.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "apiserver/http/internal/tls.h"
#include "apiserver/http/pki.h"

namespace berth::apiserver::http::internal {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr newKey() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

struct CertSpec {
  std::vector<std::pair<int, std::string>> subject;  // NID → UTF-8 text
  long notBeforeDays = -1, notAfterDays = 30;
  bool isCa = false;
  const char* extendedKeyUsage = "clientAuth";
};

CertPtr makeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey) {
  CertPtr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  static long serial = 100;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.notBeforeDays * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.notAfterDays * 86400L);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [nid, text] : spec.subject) {
    X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()), -1, 0);
  }
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto addExt = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (spec.isCa) {
    addExt(NID_basic_constraints, "critical,CA:TRUE");
    addExt(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(NID_basic_constraints, "critical,CA:FALSE");
    addExt(NID_key_usage, "critical,digitalSignature");
    addExt(NID_ext_key_usage, spec.extendedKeyUsage);
  }
  X509_sign(cert.get(), issuerKey ? issuerKey : key, EVP_sha256());
  return cert;
}

template <typename T, typename Read>
T readPem(const std::string& pem, Read read, void (*free)(typename T::element_type*)) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  T out(read(bio, nullptr, nullptr, nullptr), free);
  BIO_free(bio);
  return out;
}

class ClientCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-client-cert-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(ensurePki(dir_.string(), {"127.0.0.1"}).ok());
    PkiPaths paths = pkiPathsIn(dir_.string());
    ServerConfig config;
    config.certFile = paths.servingCert;
    config.keyFile = paths.servingKey;
    config.clientCaFile = paths.caCert;
    ASSERT_TRUE(configureServerTls(server_, config).ok());
    client_ = SSL_CTX_new(TLS_client_method());
    auto slurp = [](const std::string& path) {
      std::ifstream in(path);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    caCert_ = readPem<CertPtr>(slurp(paths.caCert), PEM_read_bio_X509, X509_free);
    caKey_ = readPem<KeyPtr>(slurp(paths.caKey), PEM_read_bio_PrivateKey, EVP_PKEY_free);
    ASSERT_TRUE(caCert_ && caKey_);
  }
  void TearDown() override {
    SSL_CTX_free(client_);
    std::filesystem::remove_all(dir_);
  }

  // One handshake presenting `leaf` (+ `chain`) with `key`; what the server made of it.
  PeerCertificate present(X509* leaf, EVP_PKEY* key, std::vector<X509*> chain, UserInfo* user) {
    SSL* s = SSL_new(server_.native_handle());
    SSL* c = SSL_new(client_);
    BIO *sb = nullptr, *cb = nullptr;
    BIO_new_bio_pair(&sb, 0, &cb, 0);
    SSL_set_bio(s, sb, sb);
    SSL_set_bio(c, cb, cb);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    if (leaf && SSL_use_certificate(c, leaf) == 1 && SSL_use_PrivateKey(c, key) == 1) {
      for (X509* x : chain) SSL_add1_chain_cert(c, x);
    }
    bool serverDone = false;
    for (int i = 0; i < 50 && !serverDone; ++i) {
      SSL_do_handshake(c);
      serverDone = SSL_do_handshake(s) == 1;
    }
    ERR_clear_error();
    PeerCertificate result = serverDone ? peerCertificateUser(s, user) : PeerCertificate::kNone;
    SSL_free(c);
    SSL_free(s);
    return result;
  }

  std::filesystem::path dir_;
  ssl::context server_{ssl::context::tls_server};
  SSL_CTX* client_ = nullptr;
  CertPtr caCert_{nullptr, X509_free};
  KeyPtr caKey_{nullptr, EVP_PKEY_free};
};

TEST_F(ClientCertTest, ValidLeafAndChainAuthenticate) {
  KeyPtr key = newKey();
  CertPtr leaf = makeCert(
      {{{NID_commonName, "alice"}, {NID_organizationName, "devs"}, {NID_organizationName, "ops"}}},
      key.get(), caCert_.get(), caKey_.get());
  UserInfo user;
  ASSERT_EQ(present(leaf.get(), key.get(), {}, &user), PeerCertificate::kValid);
  EXPECT_EQ(user.name, "alice");
  EXPECT_EQ(user.groups, (std::vector<std::string>{"devs", "ops"}));

  KeyPtr interKey = newKey();
  CertSpec interSpec{{{NID_commonName, "intermediate"}}};
  interSpec.isCa = true;
  CertPtr inter = makeCert(interSpec, interKey.get(), caCert_.get(), caKey_.get());
  CertPtr viaInter = makeCert({{{NID_commonName, "bob"}}}, key.get(), inter.get(), interKey.get());
  UserInfo bob;
  EXPECT_EQ(present(viaInter.get(), key.get(), {inter.get()}, &bob), PeerCertificate::kValid);
  EXPECT_EQ(bob.name, "bob");
  UserInfo none;
  EXPECT_EQ(present(viaInter.get(), key.get(), {}, &none), PeerCertificate::kInvalid)
      << "without its intermediate the leaf does not chain to the CA";
  EXPECT_EQ(present(nullptr, nullptr, {}, &none), PeerCertificate::kNone);
}

TEST_F(ClientCertTest, BadCertificatesNeverAuthenticate) {
  KeyPtr key = newKey();
  UserInfo user;
  CertPtr selfSigned = makeCert({{{NID_commonName, "mallory"}}}, key.get(), nullptr, nullptr);
  EXPECT_EQ(present(selfSigned.get(), key.get(), {}, &user), PeerCertificate::kInvalid);
  CertSpec expired{{{NID_commonName, "old"}}};
  expired.notBeforeDays = -10;
  expired.notAfterDays = -1;
  CertPtr old = makeCert(expired, key.get(), caCert_.get(), caKey_.get());
  EXPECT_EQ(present(old.get(), key.get(), {}, &user), PeerCertificate::kInvalid);
  CertSpec serverOnly{{{NID_commonName, "server"}}};
  serverOnly.extendedKeyUsage = "serverAuth";
  CertPtr server = makeCert(serverOnly, key.get(), caCert_.get(), caKey_.get());
  EXPECT_EQ(present(server.get(), key.get(), {}, &user), PeerCertificate::kInvalid);
  CertPtr noCn = makeCert({{{NID_organizationName, "system:masters"}}}, key.get(), caCert_.get(),
                          caKey_.get());
  EXPECT_EQ(present(noCn.get(), key.get(), {}, &user), PeerCertificate::kInvalid);

  // A CN that is an odd-length BMPString cannot be decoded: not a user, not a crash.
  CertPtr bmp = makeCert({}, key.get(), caCert_.get(), caKey_.get());
  X509_NAME* name = X509_NAME_new();
  const unsigned char odd[] = {0x00, 0x41, 0x00};
  X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_BMPSTRING, odd, 3, -1, 0);
  X509_set_subject_name(bmp.get(), name);
  X509_NAME_free(name);
  X509_sign(bmp.get(), caKey_.get(), EVP_sha256());
  EXPECT_NE(present(bmp.get(), key.get(), {}, &user), PeerCertificate::kValid);
  EXPECT_TRUE(user.name.empty());
}

TEST_F(ClientCertTest, MutatedCertificatesNeverAuthenticate) {
  KeyPtr key = newKey();
  CertPtr good = makeCert({{{NID_commonName, "alice"}, {NID_organizationName, "devs"}}}, key.get(),
                          caCert_.get(), caKey_.get());
  unsigned char* der = nullptr;
  int len = i2d_X509(good.get(), &der);
  ASSERT_GT(len, 0);
  std::vector<unsigned char> original(der, der + len);
  OPENSSL_free(der);
  std::mt19937 rng(7);
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<unsigned char> bytes = original;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t at = rng() % bytes.size();
      unsigned char was = bytes[at];
      while (bytes[at] == was) bytes[at] = static_cast<unsigned char>(rng());
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());  // truncated
    const unsigned char* p = bytes.data();
    CertPtr mutated(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())), X509_free);
    ERR_clear_error();
    if (!mutated) continue;  // OpenSSL refused the DER: nothing to present
    ++parsed;
    UserInfo user;
    PeerCertificate result = present(mutated.get(), key.get(), {}, &user);
    EXPECT_NE(result, PeerCertificate::kValid)
        << "mutation " << iter << " authenticated as " << user.name;
    rejected += result == PeerCertificate::kInvalid;
  }
  // Many changes still parse and reach the server, which sees and refuses them (how many
  // depends on the freshly generated key and certificate).
  EXPECT_GT(parsed, 50);
  EXPECT_GT(rejected, 15);

  // Random PEM-looking text never yields a certificate to present.
  for (int iter = 0; iter < 200; ++iter) {
    std::string pem = "-----BEGIN CERTIFICATE-----\n";
    for (int i = 0; i < 64; ++i)
      pem += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="[rng() % 65];
    pem += "\n-----END CERTIFICATE-----\n";
    EXPECT_FALSE(readPem<CertPtr>(pem, PEM_read_bio_X509, X509_free));
    ERR_clear_error();
  }
}

}  // namespace
}  // namespace berth::apiserver::http::internal
