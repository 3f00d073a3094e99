#pragma once
// A stop-gap for what upstream's serviceaccount and root-ca-cert-publisher controllers do: every
// namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap (the cluster CA,
// key ca.crt), created when the namespace appears and re-created when deleted. The
// ServiceAccount admission plugin rejects pods whose ServiceAccount is missing and the kubelet
// mounts kube-root-ca.crt into every pod, so both must exist before the first pod.
//
// It runs inside the API server, driven by the watch cache's events (no polling). When the
// controllers that own this work run (issue 9's authn branch), both create the same objects and
// whichever is second sees AlreadyExists — harmless; this one can then be switched off
// (ApiServerConfig::ensureDefaultServiceAccounts) and removed.
//
// Thread-safety: observe() runs on the cache's feed thread and only queues; one worker thread
// writes through the Registry. start() after the registry exists, stop() before it goes.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

class DefaultServiceAccounts {
 public:
  explicit DefaultServiceAccounts(std::string caPem) : caPem_(std::move(caPem)) {}
  ~DefaultServiceAccounts() { stop(); }
  // Registers the cache observers (before CacheSet::start).
  void observe(CacheSet& cache);
  void start(Registry& registry);
  void stop();

 private:
  void enqueue(std::string ns);
  void run();
  void ensure(const std::string& ns);

  std::string caPem_;
  Registry* registry_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // namespaces to check, guarded by mu_
  std::set<std::string> queued_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace berth::apiserver
