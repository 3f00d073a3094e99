#pragma once
// Server-side TLS setup and client-certificate authentication (OpenSSL through Asio's context).
// Thread-safety: configureServerTls runs once before serving; peerCertificateUser is called on
// each connection's own thread with that connection's SSL object.
#include <openssl/ssl.h>

#include "apiserver/http/internal/beast.h"
#include "apiserver/http/server.h"
#include "core/status.h"

namespace berth::apiserver::http::internal {

// TLS 1.2+, the serving certificate chain and key, ALPN "http/1.1" (kubectl offers h2 first; we
// only speak HTTP/1.1, and Go falls back to it), and, when config.clientCaFile is set, a
// request (not a requirement) for a client certificate. Verification failures do not fail the
// handshake: they are reported by peerCertificateUser so the request can still authenticate by
// token, as upstream's union authenticator allows.
core::Status configureServerTls(ssl::context& context, const ServerConfig& config);

enum class PeerCertificate {
  kNone,     // the client sent no certificate
  kValid,    // verified against the client CA; *user filled from CN and O
  kInvalid,  // sent but failed verification (unknown CA, expired, wrong key usage, ...)
};

PeerCertificate peerCertificateUser(SSL* ssl, UserInfo* user);

}  // namespace berth::apiserver::http::internal
