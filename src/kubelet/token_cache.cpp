#include "kubelet/token_cache.h"

#include <iostream>

namespace berth::kubelet {

core::Result<std::string> CachingTokenSource::token(const std::string& ns,
                                                    const std::string& serviceAccount,
                                                    const std::string& podName,
                                                    const std::string& podUid,
                                                    const std::string& audience,
                                                    long long expirationSeconds) {
  Key key{ns, serviceAccount, podUid, audience, expirationSeconds};
  auto now = clock_();
  std::optional<Entry> cached;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) cached = it->second;
  }
  if (cached && now < cached->refreshAt) {
    if (cached->token.empty()) return core::Status::unavailable("TokenRequest unavailable");
    return cached->token;
  }
  auto fresh = inner_.token(ns, serviceAccount, podName, podUid, audience, expirationSeconds);
  std::lock_guard lock(mu_);
  // Tokens of pods long gone (expired and not asked for since) are dropped as we go.
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->second.expiresAt + std::chrono::hours(1) < now && it->second.refreshAt < now
             ? cache_.erase(it)
             : std::next(it);
  }
  if (fresh.ok()) {
    auto life = std::chrono::seconds(expirationSeconds);
    cache_[key] = {*fresh, now + life * 8 / 10, now + life};
    logged_.erase(podUid);
    return fresh;
  }
  // A refresh that fails keeps serving the token while it is still valid.
  if (cached && !cached->token.empty() && now < cached->expiresAt) return cached->token;
  int code = fresh.status().code();
  bool unsupported = code == 404 || code == 405;
  if (logged_.insert(podUid).second) {
    std::cerr << "berth agent: no service account token for pod " << ns << "/" << podName << ": "
              << fresh.status().message()
              << (unsupported ? " (the API server has no TokenRequest; the pod starts without it)"
                              : "")
              << "\n";
  }
  cache_[key] = {"", now + std::chrono::seconds(unsupported ? 60 : 5), now};
  return fresh.status();
}

void CachingTokenSource::forgetPod(const std::string& podUid) {
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = std::get<2>(it->first) == podUid ? cache_.erase(it) : std::next(it);
  }
  logged_.erase(podUid);
}

}  // namespace berth::kubelet
