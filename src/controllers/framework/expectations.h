#pragma once
// Expectations: what a controller is waiting to see in its informer after its own writes, as
// upstream's UIDTrackingControllerExpectations (pkg/controller/controller_utils.go). A sync that
// created N pods records "expect N adds"; the pod informer's add handler counts them down. Until
// they are all seen (or the record is older than the TTL, upstream's 5 minutes, in case a watch
// event was lost), the controller does not act on the owner again, so a cache that has not
// caught up with its own creates cannot make it create the same pods twice. Deletions are tracked
// by pod key, so a pod seen first with a deletionTimestamp and then deleted counts once.
//
// Thread-safety: every method is safe from any thread (one mutex).
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace berth::controllers {

class Expectations {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Expectations(Clock::duration ttl = std::chrono::minutes(5)) : ttl_(ttl) {}

  // True when the owner `key` has no record, all expected adds/deletes were observed, or the
  // record expired: the controller may compute and act on a new difference.
  bool satisfied(const std::string& key);
  // Replace the record with `adds` expected creations (upstream ExpectCreations).
  void expectCreations(const std::string& key, int adds);
  // Replace the record with the deletions of these objects (keys "namespace/name").
  void expectDeletions(const std::string& key, const std::vector<std::string>& objectKeys);
  void creationObserved(const std::string& key);
  // Counts down only when `objectKey` is one this owner expects to see deleted.
  void deletionObserved(const std::string& key, const std::string& objectKey);
  // For creates that were never sent (a batch stopped on an error): lower the expected adds.
  void lowerCreations(const std::string& key, int adds);
  void remove(const std::string& key);

 private:
  struct Record {
    int adds = 0;
    int dels = 0;
    std::set<std::string> deleting;
    Clock::time_point at;
  };
  const Clock::duration ttl_;
  std::mutex mu_;
  std::map<std::string, Record> records_;
};

}  // namespace berth::controllers
