#pragma once
// ControllerExpectations: what a controller has asked the API for and not yet seen come back
// through its informer, per controller key, as upstream's controller.ControllerExpectations.
// A sync that created N pods expects N adds; until the informer has delivered them (or the
// expectations expire after 5 minutes, upstream's ExpectationsTimeout), the controller must not
// act on its possibly stale cache, or it would create the same pods twice. Deletions are tracked
// by pod key (upstream's UIDTrackingControllerExpectations): a pod seen first with a
// deletionTimestamp and then gone counts once.
//
// Thread-safety: every method is safe from any thread (one mutex).
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace berth::controllers {

class ControllerExpectations {
 public:
  void expectCreations(const std::string& key, int n);
  void expectDeletions(const std::string& key, const std::set<std::string>& podKeys);
  void creationObserved(const std::string& key);
  void deletionObserved(const std::string& key, const std::string& podKey);
  // A create that failed will never be observed; neither will a delete that failed.
  void creationFailed(const std::string& key) { creationObserved(key); }
  void deletionFailed(const std::string& key, const std::string& podKey) {
    deletionObserved(key, podKey);
  }
  // True when nothing is pending, no expectations were ever set, or they expired.
  bool satisfied(const std::string& key) const;
  void forget(const std::string& key);

 private:
  struct Pending {
    int adds = 0;
    std::set<std::string> deleting;
    std::chrono::steady_clock::time_point setAt;
  };

  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

}  // namespace berth::controllers
