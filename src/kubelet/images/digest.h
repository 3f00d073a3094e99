#pragma once
// SHA-256 content digests ("sha256:<hex>") over bytes, streams and files (OpenSSL EVP).
//
// Thread-safety: a Sha256 belongs to one thread; the free functions are reentrant.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::kubelet::images {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string digest();  // "sha256:<64 hex>"; ends the hash

 private:
  void* ctx_;  // EVP_MD_CTX*
};

std::string sha256Digest(std::string_view bytes);
core::Result<std::string> sha256File(const std::string& path);

}  // namespace berth::kubelet::images
