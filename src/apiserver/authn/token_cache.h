#pragma once
// VerifiedTokenCache: the claims of JWTs whose signature already verified, so a client that
// sends the same ServiceAccount token on every request (kubectl, client libraries, in-cluster
// pods) pays the ECDSA/RSA verification and the claims' JSON decode once, not per request.
// After upstream's cached token authenticator (apiserver/pkg/authentication/token/cache):
// entries are keyed by an HMAC-SHA256 of the token under a key random per process (the token
// itself is never kept), and expire after a TTL (upstream's --token success TTL, 10 s).
//
// Unlike upstream's cache, which keeps the whole authentication result, only the signature
// check and the decoded claims are cached: the claims' time window, audience and the liveness of
// the objects the token is bound to (ServiceAccount, Pod, Secret, Node) are still checked on
// every request, so a token dies with its Pod at once, never up to a TTL later. Failures are
// not cached (upstream's failure TTL is 0), so garbage tokens cannot fill the cache.
//
// Thread-safety: find() and insert() may be called concurrently; one mutex guards the map.
#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace berth::apiserver::authn {

using Claims = std::shared_ptr<const boost::json::object>;

class VerifiedTokenCache {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr std::chrono::seconds kDefaultTtl{10};
  static constexpr size_t kDefaultCapacity = 4096;

  explicit VerifiedTokenCache(std::chrono::seconds ttl = kDefaultTtl,
                              size_t capacity = kDefaultCapacity);

  // The claims of `token` if it was inserted less than the TTL before `now`; null otherwise.
  Claims find(std::string_view token, TimePoint now) const;
  // Remembers that `token` verified with `claims`, from `now` for the TTL. When full, expired
  // entries go first; if none has, the whole cache is dropped (verification is only slower).
  void insert(std::string_view token, Claims claims, TimePoint now);
  size_t size() const;

 private:
  using Key = std::array<unsigned char, 32>;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Claims claims;
    TimePoint expires;
  };
  Key keyOf(std::string_view token) const;

  const std::chrono::seconds ttl_;
  size_t capacity_;                          // 0: caching off (no randomness for the key)
  std::array<unsigned char, 32> hmacKey_{};  // random, set once in the constructor
  mutable std::mutex mu_;
  std::unordered_map<Key, Entry, KeyHash> entries_;  // guarded by mu_
};

}  // namespace berth::apiserver::authn
