#pragma once
// Certificates for the API server, generated with OpenSSL on first start and kept in the data
// directory: a self-signed cluster CA, a serving certificate signed by it (SANs: the names and
// addresses a client may dial), and client certificates for users (CN = user, O = groups).
//
// Thread-safety: free functions; safe to call concurrently on different paths.
#include <string>
#include <vector>

#include "core/status.h"

namespace berth::apiserver::http {

struct PkiPaths {
  std::string caCert, caKey;            // ca.crt, ca.key
  std::string servingCert, servingKey;  // serving.crt, serving.key
};

PkiPaths pkiPathsIn(const std::string& dir);

// Creates the CA and serving certificate in `dir` if they are missing; keeps existing ones.
// `sans` are DNS names or IP addresses (IPs are detected by form) for the serving certificate.
core::Status ensurePki(const std::string& dir, const std::vector<std::string>& sans);

// Issues a client certificate signed by the CA in `dir`. Output PEM strings.
core::Status issueClientCert(const std::string& dir, const std::string& commonName,
                             const std::vector<std::string>& organizations, std::string* certPem,
                             std::string* keyPem);

}  // namespace berth::apiserver::http
