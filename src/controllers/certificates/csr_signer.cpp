#include "controllers/certificates/csr_signer.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

namespace berth::controllers::certificates {

namespace {

using core::Result;
using core::Status;

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

BioPtr memBio(const std::string& s) {
  return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

// Subject fields by NID, in order.
std::vector<std::string> subjectValues(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  int idx = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, nid, idx)) >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

bool hasSans(X509_REQ* req) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (!exts) return false;
  bool found = false;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i)
    if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) ==
        NID_subject_alt_name)
      found = true;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return found;
}

Status checkUsages(const std::vector<std::string>& usages) {
  static const std::vector<std::string> kAllowed = {"digital signature", "key encipherment",
                                                    "client auth"};
  for (const auto& u : usages)
    if (std::find(kAllowed.begin(), kAllowed.end(), u) == kAllowed.end())
      return Status::badRequest("usage \"" + u + "\" is not allowed for this signer");
  if (std::find(usages.begin(), usages.end(), "client auth") == usages.end())
    return Status::badRequest("missing required usage \"client auth\"");
  return {};
}

bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

std::optional<RequestSubject> requestSubject(const std::string& requestPem) {
  auto bio = memBio(requestPem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return std::nullopt;
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  auto cn = subjectValues(subject, NID_commonName);
  return RequestSubject{cn.empty() ? "" : cn[0], subjectValues(subject, NID_organizationName)};
}

bool isClientSigner(std::string_view signerName) {
  return signerName == kClientSigner || signerName == kKubeletClientSigner;
}

Result<std::string> signRequest(const SigningRequest& request, const std::string& caCertPem,
                                const std::string& caKeyPem, std::chrono::seconds maxDuration) {
  if (!isClientSigner(request.signerName))
    return Status::badRequest("signer " + request.signerName + " is not handled here");
  auto bio = memBio(request.requestPem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return Status::badRequest("spec.request is not a PEM certificate request");
  KeyPtr pub(X509_REQ_get_pubkey(req.get()));
  if (!pub || X509_REQ_verify(req.get(), pub.get()) != 1)
    return Status::badRequest("the certificate request's signature does not verify");
  if (auto st = checkUsages(request.usages); !st.ok()) return st;
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  auto cn = subjectValues(subject, NID_commonName);
  if (cn.size() != 1 || cn[0].empty()) return Status::badRequest("subject needs one common name");
  if (request.signerName == kKubeletClientSigner) {
    if (cn[0].rfind("system:node:", 0) != 0 || cn[0].size() == 12)
      return Status::badRequest("subject common name must begin with \"system:node:\"");
    if (subjectValues(subject, NID_organizationName) != std::vector<std::string>{"system:nodes"})
      return Status::badRequest("subject organization must be exactly \"system:nodes\"");
    if (hasSans(req.get()))
      return Status::badRequest("kubelet client certificates may not have subject alternative names");
  }

  auto caBio = memBio(caCertPem);
  X509Ptr ca(PEM_read_bio_X509(caBio.get(), nullptr, nullptr, nullptr));
  auto keyBio = memBio(caKeyPem);
  KeyPtr caKey(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  if (!ca || !caKey) return Status::internal("cannot read the signing CA");

  auto duration = maxDuration;
  if (request.expirationSeconds)
    duration = std::min(duration, std::chrono::seconds(std::max<int64_t>(600, *request.expirationSeconds)));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_subject_name(cert.get(), subject);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  // Backdated by five minutes for clock skew, as upstream's signer does.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(duration.count()));
  X509_set_pubkey(cert.get(), pub.get());
  std::string keyUsage = "critical";
  for (const auto& u : request.usages) {
    if (u == "digital signature") keyUsage += ",digitalSignature";
    if (u == "key encipherment") keyUsage += ",keyEncipherment";
  }
  if (!addExt(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      (keyUsage != "critical" && !addExt(cert.get(), ca.get(), NID_key_usage, keyUsage.c_str())) ||
      !addExt(cert.get(), ca.get(), NID_ext_key_usage, "clientAuth") ||
      (X509_get0_subject_key_id(ca.get()) != nullptr &&
       !addExt(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always")))
    return Status::internal("cannot build the certificate's extensions");
  if (X509_sign(cert.get(), caKey.get(), EVP_sha256()) <= 0)
    return Status::internal("cannot sign the certificate");
  BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace berth::controllers::certificates
