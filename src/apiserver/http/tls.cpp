// TLS context setup and client-certificate identity (see internal/tls.h).
#include "apiserver/http/internal/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>
#include <string>

namespace berth::apiserver::http::internal {
namespace {

constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

// ALPN: pick http/1.1 when offered. Without it, answer no protocol at all (Go then assumes
// HTTP/1.1); never fail the handshake over ALPN.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLen, const unsigned char* in,
               unsigned int inLen, void*) {
  unsigned int i = 0;
  while (i < inLen) {
    unsigned int len = in[i];
    if (i + 1 + len > inLen) break;  // malformed list
    if (len == sizeof(kHttp11) && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outLen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Accept the handshake whatever the chain verification says; the verdict stays available
// through SSL_get_verify_result and decides authentication per request.
int acceptAnyClientCertificate(int, X509_STORE_CTX*) { return 1; }

std::string lastOpenSslError() {
  unsigned long err = ERR_get_error();
  if (err == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(err, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

std::string entryText(X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (len < 0 || utf8 == nullptr) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

core::Status configureServerTls(ssl::context& context, const ServerConfig& config) {
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return core::Status::internal("TLS: cannot set minimum version: " + lastOpenSslError());
  }
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                      ssl::context::single_dh_use);
  // Tickets keep reconnecting kubectl invocations cheap.
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("berth"), 5);
  // An idle keep-alive connection gives its ~34 KB of record buffers back (see TlsStream).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Read whole socket buffers, not a 5-byte record header and then the record: half the read
  // calls. TlsStream::hasPendingInput() sees read-ahead bytes too (SSL_has_pending).
  SSL_CTX_set_read_ahead(ctx, 1);

  if (SSL_CTX_use_certificate_chain_file(ctx, config.certFile.c_str()) != 1) {
    return core::Status::internal("TLS: cannot load certificate " + config.certFile + ": " +
                                  lastOpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, config.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    return core::Status::internal("TLS: cannot load key " + config.keyFile + ": " +
                                  lastOpenSslError());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return core::Status::internal("TLS: key " + config.keyFile + " does not match certificate");
  }
  SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, nullptr);

  if (!config.clientCaFile.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config.clientCaFile.c_str(), nullptr) != 1) {
      return core::Status::internal("TLS: cannot load client CA " + config.clientCaFile + ": " +
                                    lastOpenSslError());
    }
    // Tell clients which CA we accept, so they pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.clientCaFile.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    // Leaf must be usable for client authentication (extendedKeyUsage clientAuth if present).
    SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, acceptAnyClientCertificate);
  }
  return {};
}

PeerCertificate peerCertificateUser(SSL* ssl, UserInfo* user) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return PeerCertificate::kNone;
  if (SSL_get_verify_result(ssl) != X509_V_OK) return PeerCertificate::kInvalid;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (subject == nullptr) return PeerCertificate::kInvalid;
  UserInfo found;
  int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) found.name = entryText(X509_NAME_get_entry(subject, cn));
  // Upstream rejects a certificate without a CN ("common name is empty").
  if (found.name.empty()) return PeerCertificate::kInvalid;
  for (int i = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) {
    std::string group = entryText(X509_NAME_get_entry(subject, i));
    if (!group.empty()) found.groups.push_back(std::move(group));
  }
  *user = std::move(found);
  return PeerCertificate::kValid;
}

}  // namespace berth::apiserver::http::internal
