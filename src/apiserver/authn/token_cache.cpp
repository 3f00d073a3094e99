#include "apiserver/authn/token_cache.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

namespace berth::apiserver::authn {

VerifiedTokenCache::VerifiedTokenCache(std::chrono::seconds ttl, size_t capacity)
    : ttl_(ttl), capacity_(capacity) {
  if (RAND_bytes(hmacKey_.data(), static_cast<int>(hmacKey_.size())) != 1) {
    // No randomness: keep the cache unusable rather than keyed predictably.
    capacity_ = 0;
  }
}

size_t VerifiedTokenCache::KeyHash::operator()(const Key& k) const {
  size_t h;
  std::memcpy(&h, k.data(), sizeof h);  // the bytes of an HMAC are uniformly distributed
  return h;
}

VerifiedTokenCache::Key VerifiedTokenCache::keyOf(std::string_view token) const {
  Key key{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), hmacKey_.data(), static_cast<int>(hmacKey_.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), key.data(), &length);
  return key;
}

Claims VerifiedTokenCache::find(std::string_view token, TimePoint now) const {
  if (capacity_ == 0 || ttl_.count() <= 0) return nullptr;
  Key key = keyOf(token);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.expires) return nullptr;
  return it->second.claims;
}

void VerifiedTokenCache::insert(std::string_view token, Claims claims, TimePoint now) {
  if (capacity_ == 0 || ttl_.count() <= 0 || !claims) return;
  Key key = keyOf(token);
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_ && !entries_.count(key)) {
    std::erase_if(entries_, [&](const auto& e) { return now >= e.second.expires; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_[key] = Entry{std::move(claims), now + ttl_};
}

size_t VerifiedTokenCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace berth::apiserver::authn
