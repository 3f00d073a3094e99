#pragma once
// Signing a CertificateSigningRequest for upstream's built-in client signers
// (pkg/controller/certificates/signer and the per-signer checks of
// pkg/apis/certificates/v1/helpers): kubernetes.io/kube-apiserver-client (any client identity;
// usages within digital signature, key encipherment, client auth, which is required) and
// kubernetes.io/kube-apiserver-client-kubelet (CN system:node:<name>, O exactly system:nodes,
// no SANs, the same usages). The certificate copies the request's subject and public key, has
// clientAuth as its only extended key usage, and lives the requested expirationSeconds (at least
// 10 minutes) capped by `maxDuration` (upstream's --cluster-signing-duration, one year).
//
// Thread-safety: stateless.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::controllers::certificates {

inline constexpr std::string_view kClientSigner = "kubernetes.io/kube-apiserver-client";
inline constexpr std::string_view kKubeletClientSigner =
    "kubernetes.io/kube-apiserver-client-kubelet";

struct SigningRequest {
  std::string requestPem;  // spec.request, decoded: a PEM CERTIFICATE REQUEST
  std::string signerName;
  std::vector<std::string> usages;
  std::optional<int64_t> expirationSeconds;
};

// The signed certificate (PEM). BadRequest with the reason when the request does not meet the
// signer's rules (the controller records that as condition Failed/SignerValidationFailure).
core::Result<std::string> signRequest(const SigningRequest& request, const std::string& caCertPem,
                                      const std::string& caKeyPem,
                                      std::chrono::seconds maxDuration = std::chrono::hours(8760));

// The subject of a PEM certificate request; nullopt when it does not parse.
struct RequestSubject {
  std::string commonName;
  std::vector<std::string> organizations;
};
std::optional<RequestSubject> requestSubject(const std::string& requestPem);

// True for the signers signRequest handles.
bool isClientSigner(std::string_view signerName);

}  // namespace berth::controllers::certificates
