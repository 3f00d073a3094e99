#pragma once
// What upstream's serviceaccount and root-ca-cert-publisher controllers do: every
// namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap (the cluster CA,
// key ca.crt), created when the namespace appears and re-created when deleted. The
// ServiceAccount admission plugin rejects pods whose ServiceAccount is missing and the kubelet
// mounts kube-root-ca.crt into every pod, so both must exist before the first pod.
//
// It runs inside the API server, driven by the watch cache's events (no polling), only when the
// server runs no controllers (`berth server --disable-controllers`,
// ApiServerConfig::ensureDefaultServiceAccounts): upstream's API server never makes these
// objects, but upstream always has a kube-controller-manager beside it, and without either every
// pod would fail ServiceAccount admission. Where a controller manager does run elsewhere
// (`berth controller-manager`), both create the same objects and the second sees AlreadyExists,
// which is harmless (docs/decisions.md).
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
