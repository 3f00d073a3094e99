#include "apiserver/kubelet_connection.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::apiserver {

KubeletConnection::~KubeletConnection() {
  if (ssl_ != nullptr) {
    SSL_shutdown(static_cast<SSL*>(ssl_));
    SSL_free(static_cast<SSL*>(ssl_));
  }
  if (ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
  if (fd_ >= 0) ::close(fd_);
}

core::Result<std::unique_ptr<KubeletConnection>> KubeletConnection::open(
    const std::string& host, int port, const std::string& certFile, const std::string& keyFile) {
  std::unique_ptr<KubeletConnection> c(new KubeletConnection());
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr)
    return core::Status::unavailable("cannot resolve kubelet address " + host);
  c->fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = ::connect(c->fd_, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0)
    return core::Status::unavailable("error dialing kubelet " + host + ":" + service + ": " +
                                     std::strerror(errno));
  int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  c->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, certFile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
    return core::Status::internal("cannot load the kubelet client certificate " + certFile);
  SSL* ssl = SSL_new(ctx);
  c->ssl_ = ssl;
  SSL_set_fd(ssl, c->fd_);
  SSL_set_tlsext_host_name(ssl, host.c_str());
  if (SSL_connect(ssl) != 1)
    return core::Status::unavailable("TLS handshake with kubelet " + host + " failed");
  return c;
}

bool KubeletConnection::writeAll(std::string_view data) {
  while (!data.empty()) {
    int n = SSL_write(static_cast<SSL*>(ssl_), data.data(), static_cast<int>(data.size()));
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

size_t KubeletConnection::readSome(char* data, size_t size) {
  int n = SSL_read(static_cast<SSL*>(ssl_), data, static_cast<int>(size));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool KubeletConnection::pending() const { return SSL_pending(static_cast<SSL*>(ssl_)) > 0; }

}  // namespace berth::apiserver
