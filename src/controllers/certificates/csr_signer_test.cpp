#include "controllers/certificates/csr_signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace berth::controllers::certificates {
namespace {

std::string pemOf(int (*write)(BIO*, void*), void* obj) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio, obj);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

void setSubject(X509_NAME* name, const std::string& cn, const std::vector<std::string>& orgs) {
  for (const auto& o : orgs)
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
}

struct Ca {
  std::string cert, key;
  Ca() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    setSubject(X509_get_subject_name(x), "test-ca", {});
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    cert = pemOf([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
    key = pemOf([](BIO* b, void* o) {
      return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
    }, k);
    X509_free(x);
    EVP_PKEY_free(k);
  }
};

std::string makeCsr(const std::string& cn, const std::vector<std::string>& orgs) {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  setSubject(X509_REQ_get_subject_name(req), cn, orgs);
  X509_REQ_set_pubkey(req, k);
  X509_REQ_sign(req, k, EVP_sha256());
  std::string pem =
      pemOf([](BIO* b, void* o) { return PEM_write_bio_X509_REQ(b, static_cast<X509_REQ*>(o)); }, req);
  X509_REQ_free(req);
  EVP_PKEY_free(k);
  return pem;
}

X509* parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return x;
}

TEST(CsrSigner, SignsKubeletClientRequestsWithTheSubjectAndClientAuthOnly) {
  Ca ca;
  SigningRequest req{makeCsr("system:node:n1", {"system:nodes"}), std::string(kKubeletClientSigner),
                     {"digital signature", "client auth"}, 3600};
  auto cert = signRequest(req, ca.cert, ca.key);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  X509* x = parse(*cert);
  ASSERT_NE(x, nullptr);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "system:node:n1");
  EXPECT_EQ(X509_get_extended_key_usage(x), static_cast<uint32_t>(XKU_SSL_CLIENT));
  // Valid for the hour asked (plus the five minutes of backdating), not the default year.
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x));
  EXPECT_EQ(days * 86400 + secs, 3600 + 300);
  BIO* bio = BIO_new_mem_buf(ca.cert.data(), static_cast<int>(ca.cert.size()));
  X509* caX = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  EXPECT_EQ(X509_verify(x, X509_get0_pubkey(caX)), 1);
  X509_free(caX);
  BIO_free(bio);
  X509_free(x);
}

TEST(CsrSigner, RefusesRequestsOutsideTheSignersRules) {
  Ca ca;
  auto sign = [&](std::string cn, std::vector<std::string> orgs, std::string signer,
                  std::vector<std::string> usages) {
    return signRequest({makeCsr(cn, orgs), signer, usages, std::nullopt}, ca.cert, ca.key);
  };
  std::string kubelet(kKubeletClientSigner), client(kClientSigner);
  EXPECT_TRUE(sign("alice", {"devs"}, client, {"client auth"}).ok());
  EXPECT_EQ(sign("alice", {"devs"}, kubelet, {"client auth"}).status().code(), 400);
  EXPECT_EQ(sign("system:node:n1", {"system:masters"}, kubelet, {"client auth"}).status().code(),
            400);
  EXPECT_EQ(sign("alice", {}, client, {"server auth"}).status().code(), 400);
  EXPECT_EQ(sign("alice", {}, client, {"digital signature"}).status().code(), 400);
  EXPECT_EQ(sign("alice", {}, "example.com/other", {"client auth"}).status().code(), 400);
  EXPECT_EQ(signRequest({"garbage", client, {"client auth"}, std::nullopt}, ca.cert, ca.key)
                .status().code(), 400);
  auto subject = requestSubject(makeCsr("system:node:n2", {"system:nodes"}));
  ASSERT_TRUE(subject.has_value());
  EXPECT_EQ(subject->commonName, "system:node:n2");
  EXPECT_EQ(subject->organizations, std::vector<std::string>{"system:nodes"});
}

}  // namespace
}  // namespace berth::controllers::certificates
