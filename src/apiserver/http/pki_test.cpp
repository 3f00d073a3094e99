// Tests of the generated PKI: what the certificates say, and that they chain to the CA.
#include "apiserver/http/pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace berth::apiserver::http {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using CertPtr = std::unique_ptr<X509, X509Free>;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

CertPtr parseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertPtr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

std::string subjectEntry(X509* cert, int nid, int after = -1, int* index = nullptr) {
  X509_NAME* name = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(name, nid, after);
  if (index != nullptr) *index = i;
  if (i < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

// Verifies `cert` against `ca` for the given purpose (X509_PURPOSE_SSL_SERVER/CLIENT).
bool verifies(X509* cert, X509* ca, int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

std::set<std::string> sans(X509* cert) {
  std::set<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      out.insert("DNS:" +
                 std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                             ASN1_STRING_length(name->d.dNSName)));
    } else if (name->type == GEN_IPADD) {
      out.insert("IP/" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + ":" +
                 std::to_string(ASN1_STRING_get0_data(name->d.iPAddress)[0]));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-pki-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/pki";  // does not exist yet: ensurePki creates it
  }
  void TearDown() override {
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path());
  }
  std::string dir_;
};

TEST_F(PkiTest, CreatesCaAndServingCertificate) {
  auto status = ensurePki(dir_, {"node1.example", "192.168.1.5", "fd00::1"});
  ASSERT_TRUE(status.ok()) << status.message();
  PkiPaths paths = pkiPathsIn(dir_);
  CertPtr ca = parseCert(readAll(paths.caCert));
  CertPtr serving = parseCert(readAll(paths.servingCert));
  ASSERT_TRUE(ca && serving);
  EXPECT_EQ(subjectEntry(ca.get(), NID_commonName), "berth-ca");
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(subjectEntry(serving.get(), NID_commonName), "kube-apiserver");
  EXPECT_TRUE(verifies(serving.get(), ca.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(verifies(serving.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));  // serverAuth only
  EXPECT_EQ(X509_check_host(serving.get(), "node1.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(serving.get(), "kubernetes.default.svc.cluster.local", 0, 0, nullptr),
            1);
  EXPECT_EQ(X509_check_host(serving.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(serving.get(), "other.example", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(serving.get(), "192.168.1.5", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(serving.get(), "fd00::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(serving.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(serving.get(), "10.96.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(serving.get(), "10.0.0.9", 0), 0);
  // IP literals became IP SANs, not DNS names.
  EXPECT_EQ(sans(serving.get()).count("DNS:192.168.1.5"), 0u);
  EXPECT_EQ(sans(serving.get()).count("IP/16:253"), 1u);

  struct stat st {};
  ASSERT_EQ(stat(paths.caKey.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(paths.servingKey.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(PkiTest, KeepsExistingFiles) {
  ASSERT_TRUE(ensurePki(dir_, {}).ok());
  PkiPaths paths = pkiPathsIn(dir_);
  std::string ca = readAll(paths.caCert);
  std::string serving = readAll(paths.servingCert);
  std::string key = readAll(paths.servingKey);
  ASSERT_TRUE(ensurePki(dir_, {"another.name"}).ok());
  EXPECT_EQ(readAll(paths.caCert), ca);
  EXPECT_EQ(readAll(paths.servingCert), serving);
  EXPECT_EQ(readAll(paths.servingKey), key);
  // A missing serving certificate is re-issued from the kept CA.
  std::filesystem::remove(paths.servingCert);
  ASSERT_TRUE(ensurePki(dir_, {"another.name"}).ok());
  EXPECT_EQ(readAll(paths.caCert), ca);
  CertPtr reissued = parseCert(readAll(paths.servingCert));
  ASSERT_TRUE(reissued);
  EXPECT_TRUE(verifies(reissued.get(), parseCert(ca).get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_EQ(X509_check_host(reissued.get(), "another.name", 0, 0, nullptr), 1);
}

TEST_F(PkiTest, IssuesClientCertificates) {
  ASSERT_TRUE(ensurePki(dir_, {}).ok());
  std::string certPem, keyPem;
  ASSERT_TRUE(issueClientCert(dir_, "admin", {"system:masters", "ops"}, &certPem, &keyPem).ok());
  EXPECT_NE(keyPem.find("PRIVATE KEY"), std::string::npos);
  CertPtr cert = parseCert(certPem);
  CertPtr ca = parseCert(readAll(pkiPathsIn(dir_).caCert));
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(subjectEntry(cert.get(), NID_commonName), "admin");
  int index = -1;
  EXPECT_EQ(subjectEntry(cert.get(), NID_organizationName, -1, &index), "system:masters");
  EXPECT_EQ(subjectEntry(cert.get(), NID_organizationName, index), "ops");
  EXPECT_TRUE(verifies(cert.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(verifies(cert.get(), ca.get(), X509_PURPOSE_SSL_SERVER));  // clientAuth only
  // About a year of validity.
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_GE(days, 364);
  EXPECT_LE(days, 367);
}

TEST_F(PkiTest, RejectsBadInput) {
  EXPECT_FALSE(ensurePki(dir_, {"bad name,with comma"}).ok());
  std::string certPem, keyPem;
  EXPECT_FALSE(issueClientCert(dir_ + "/missing", "x", {}, &certPem, &keyPem).ok());
  ASSERT_TRUE(ensurePki(dir_ + "/good", {}).ok());
  EXPECT_FALSE(issueClientCert(dir_ + "/good", "", {}, &certPem, &keyPem).ok());
}

}  // namespace
}  // namespace berth::apiserver::http
