#pragma once
// CachingTokenSource: the kubelet's token manager (upstream pkg/kubelet/token). Projected
// serviceAccountToken volumes are rewritten every few seconds (volumes.cpp), but a token is
// requested once and reused until 80 % of its lifetime has passed, as upstream refreshes it.
// When the API server has no TokenRequest (404 / 405), the failure is logged once per pod and
// remembered for a minute: the volume is written without the token file and the pod still starts.
//
// Thread-safety: all methods may be called concurrently; one mutex guards the cache, and it is
// not held while the inner source makes its request.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "kubelet/volumes.h"

namespace berth::kubelet {

class CachingTokenSource : public TokenSource {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit CachingTokenSource(TokenSource& inner, Clock clock = std::chrono::steady_clock::now)
      : inner_(inner), clock_(std::move(clock)) {}

  core::Result<std::string> token(const std::string& ns, const std::string& serviceAccount,
                                  const std::string& podName, const std::string& podUid,
                                  const std::string& audience,
                                  long long expirationSeconds) override;
  // Drops the tokens of a pod that is gone.
  void forgetPod(const std::string& podUid);

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, long long>;
  struct Entry {
    std::string token;  // empty: the last request failed
    std::chrono::steady_clock::time_point refreshAt;
    std::chrono::steady_clock::time_point expiresAt;
  };
  TokenSource& inner_;
  Clock clock_;
  std::mutex mu_;
  std::map<Key, Entry> cache_;  // guarded by mu_
  std::set<std::string> logged_;  // pod UIDs whose failure was logged, guarded by mu_
};

}  // namespace berth::kubelet
