#pragma once
// A blocking TLS connection from the API server to a kubelet's streaming port, authenticated
// with the API server's kubelet-client certificate. The kubelet's serving certificate is not
// verified (upstream's default without --kubelet-certificate-authority). Exposes its socket so
// the proxy can poll it beside the client's connection.
//
// Thread-safety: one thread at a time.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::apiserver {

class KubeletConnection {
 public:
  ~KubeletConnection();
  static core::Result<std::unique_ptr<KubeletConnection>> open(const std::string& host, int port,
                                                               const std::string& certFile,
                                                               const std::string& keyFile);
  bool writeAll(std::string_view data);
  // At least one byte, 0 at end of stream or on error.
  size_t readSome(char* data, size_t size);
  // Decrypted bytes a read returns without touching the socket.
  bool pending() const;
  int fd() const { return fd_; }

 private:
  KubeletConnection() = default;
  int fd_ = -1;
  void* ctx_ = nullptr;  // SSL_CTX*
  void* ssl_ = nullptr;  // SSL*
};

}  // namespace berth::apiserver
