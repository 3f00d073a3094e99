// Cluster PKI with OpenSSL 3 (see pki.h): EC P-256 keys, SHA-256 signatures.
#include "apiserver/http/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::apiserver::http {
namespace {

constexpr long kDay = 24L * 60 * 60;
constexpr long kCaValidity = 10 * 365 * kDay;
constexpr long kServingValidity = 365 * kDay;
constexpr long kClientValidity = 365 * kDay;
// Certificates start an hour in the past so a client with a slightly late clock accepts them.
constexpr long kBackdate = 60 * 60;

// Names every in-cluster and local client may dial, as kube-apiserver's serving cert has them.
const char* const kDefaultSans[] = {"localhost",
                                    "127.0.0.1",
                                    "kubernetes",
                                    "kubernetes.default",
                                    "kubernetes.default.svc",
                                    "kubernetes.default.svc.cluster.local",
                                    "10.96.0.1"};

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using CertPtr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

std::string openSslError(std::string_view what) {
  std::string message(what);
  unsigned long err = ERR_get_error();
  if (err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return message;
}

core::Status failure(std::string_view what) { return core::Status::internal(openSslError(what)); }

bool fileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Writes `data` to `path` atomically (temp file + rename) with the given mode.
core::Status writeFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return core::Status::internal("cannot create " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // the umask must not widen or narrow it
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Status::internal("cannot write " + tmp + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return core::Status::internal("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return core::Status::internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return {};
}

core::Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Status::internal("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

KeyPtr generateKey() { return KeyPtr(EVP_EC_gen("P-256")); }

std::string keyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string certPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

core::Result<CertPtr> loadCert(const std::string& path) {
  auto pem = readFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return failure("cannot parse certificate " + path);
  return cert;
}

core::Result<KeyPtr> loadKey(const std::string& path) {
  auto pem = readFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return failure("cannot parse private key " + path);
  return key;
}

bool addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Deleter> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// A certificate for `key` with the given subject, valid for `validity` seconds, not yet signed
// and without extensions. `issuer` null = self-issued.
core::Result<CertPtr> newCertificate(EVP_PKEY* key, const std::string& commonName,
                                     const std::vector<std::string>& organizations, long validity,
                                     X509* issuer) {
  CertPtr cert(X509_new());
  if (!cert) return failure("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  // Random positive 127-bit serial, as RFC 5280 recommends unpredictable serials.
  unsigned char serialBytes[16];
  if (RAND_bytes(serialBytes, sizeof(serialBytes)) != 1) return failure("RAND_bytes");
  serialBytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, Deleter> serial(BN_bin2bn(serialBytes, sizeof(serialBytes), nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return failure("certificate serial");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdate);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& org : organizations) {
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1,
                                   0) != 1) {
      return failure("certificate organization");
    }
  }
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1,
                                 0) != 1) {
    return failure("certificate common name");
  }
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(cert.get(), key) != 1) return failure("X509_set_pubkey");
  return cert;
}

core::Status sign(X509* cert, EVP_PKEY* issuerKey) {
  if (X509_sign(cert, issuerKey, EVP_sha256()) <= 0) return failure("X509_sign");
  return {};
}

// An IP SAN when `san` is an IPv4 or IPv6 literal (brackets allowed), else a DNS SAN.
GENERAL_NAME* subjectAltName(const std::string& san) {
  std::string literal = san;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  unsigned char ip[16];
  int ipLength = 0;
  if (inet_pton(AF_INET, literal.c_str(), ip) == 1) {
    ipLength = 4;
  } else if (inet_pton(AF_INET6, literal.c_str(), ip) == 1) {
    ipLength = 16;
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) return nullptr;
  ASN1_STRING* value = ipLength > 0 ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  const unsigned char* bytes =
      ipLength > 0 ? ip : reinterpret_cast<const unsigned char*>(san.data());
  int length = ipLength > 0 ? ipLength : static_cast<int>(san.size());
  if (value == nullptr || ASN1_STRING_set(value, bytes, length) != 1) {
    ASN1_STRING_free(value);
    GENERAL_NAME_free(name);
    return nullptr;
  }
  GENERAL_NAME_set0_value(name, ipLength > 0 ? GEN_IPADD : GEN_DNS, value);
  return name;
}

// DNS names are restricted to what a hostname may hold (plus a leading wildcard label).
bool plausibleSan(const std::string& san) {
  if (san.empty() || san.size() > 253) return false;
  for (char c : san) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '*' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

core::Status writeCertAndKey(const std::string& certPath, const std::string& keyPath, X509* cert,
                             EVP_PKEY* key) {
  std::string keyText = keyPem(key);
  std::string certText = certPem(cert);
  if (keyText.empty() || certText.empty()) return failure("PEM encoding");
  // Key first: a certificate on disk without its key would be kept as "existing" next time.
  if (auto status = writeFile(keyPath, keyText, 0600); !status.ok()) return status;
  return writeFile(certPath, certText, 0644);
}

core::Status createCa(const PkiPaths& paths) {
  KeyPtr key = generateKey();
  if (!key) return failure("CA key generation");
  auto cert = newCertificate(key.get(), "berth-ca", {}, kCaValidity, nullptr);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (!addExtension(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
      !addExtension(x, x, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") ||
      !addExtension(x, x, NID_subject_key_identifier, "hash")) {
    return failure("CA extensions");
  }
  if (auto status = sign(x, key.get()); !status.ok()) return status;
  return writeCertAndKey(paths.caCert, paths.caKey, x, key.get());
}

core::Status createServing(const PkiPaths& paths, X509* ca, EVP_PKEY* caKey,
                           const std::vector<std::string>& sans) {
  std::vector<std::string> all;
  auto addUnique = [&all](const std::string& san) {
    if (std::find(all.begin(), all.end(), san) == all.end()) all.push_back(san);
  };
  for (const auto& san : sans) addUnique(san);
  for (const char* san : kDefaultSans) addUnique(san);

  KeyPtr key = generateKey();
  if (!key) return failure("serving key generation");
  auto cert = newCertificate(key.get(), "kube-apiserver", {}, kServingValidity, ca);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (!addExtension(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !addExtension(x, ca, NID_ext_key_usage, "serverAuth") ||
      !addExtension(x, ca, NID_authority_key_identifier, "keyid:always")) {
    return failure("serving certificate extensions");
  }
  std::unique_ptr<GENERAL_NAMES, Deleter> names(sk_GENERAL_NAME_new_null());
  if (!names) return failure("subjectAltName");
  for (const auto& san : all) {
    GENERAL_NAME* name = subjectAltName(san);
    if (name == nullptr || sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return failure("subjectAltName " + san);
    }
  }
  if (X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return failure("subjectAltName");
  }
  if (auto status = sign(x, caKey); !status.ok()) return status;
  return writeCertAndKey(paths.servingCert, paths.servingKey, x, key.get());
}

}  // namespace

PkiPaths pkiPathsIn(const std::string& dir) {
  std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  return PkiPaths{base + "ca.crt", base + "ca.key", base + "serving.crt", base + "serving.key"};
}

core::Status ensurePki(const std::string& dir, const std::vector<std::string>& sans) {
  for (const auto& san : sans) {
    if (!plausibleSan(san)) return core::Status::badRequest("invalid certificate SAN: " + san);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::Status::internal("cannot create " + dir + ": " + ec.message());
  PkiPaths paths = pkiPathsIn(dir);
  bool haveCa = fileExists(paths.caCert) && fileExists(paths.caKey);
  if (!haveCa) {
    if (auto status = createCa(paths); !status.ok()) return status;
  }
  // A serving certificate from an earlier CA would not verify against the new one.
  if (haveCa && fileExists(paths.servingCert) && fileExists(paths.servingKey)) return {};
  auto ca = loadCert(paths.caCert);
  if (!ca.ok()) return ca.status();
  auto caKey = loadKey(paths.caKey);
  if (!caKey.ok()) return caKey.status();
  return createServing(paths, ca->get(), caKey->get(), sans);
}

core::Status issueClientCert(const std::string& dir, const std::string& commonName,
                             const std::vector<std::string>& organizations, std::string* certPem,
                             std::string* keyPem) {
  if (commonName.empty()) return core::Status::badRequest("a client certificate needs a name");
  PkiPaths paths = pkiPathsIn(dir);
  auto ca = loadCert(paths.caCert);
  if (!ca.ok()) return ca.status();
  auto caKey = loadKey(paths.caKey);
  if (!caKey.ok()) return caKey.status();
  KeyPtr key = generateKey();
  if (!key) return failure("client key generation");
  auto cert = newCertificate(key.get(), commonName, organizations, kClientValidity, ca->get());
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (!addExtension(x, ca->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(x, ca->get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !addExtension(x, ca->get(), NID_ext_key_usage, "clientAuth") ||
      !addExtension(x, ca->get(), NID_authority_key_identifier, "keyid:always")) {
    return failure("client certificate extensions");
  }
  if (auto status = sign(x, caKey->get()); !status.ok()) return status;
  std::string certText = http::certPem(x);
  std::string keyText = http::keyPem(key.get());
  if (certText.empty() || keyText.empty()) return failure("PEM encoding");
  *certPem = std::move(certText);
  *keyPem = std::move(keyText);
  return {};
}

}  // namespace berth::apiserver::http
