#pragma once
// The built-in ingress controller: serves networking.k8s.io/v1 Ingresses of its IngressClass
// (`berth-nginx`, controller `berth.dev/ingress-nginx`, created as the cluster's default class
// when no default exists) and Ingresses without a class while it is the default. It renders the
// nginx configuration (nginx_config.h) from Ingresses, Services, EndpointSlices and TLS Secrets,
// runs Debian's nginx as a child it supervises (restarted when it exits), and applies changes
// with a graceful reload (SIGHUP after `nginx -t`): old workers finish their connections, so a
// reload drops none. Ingress status.loadBalancer.ingress gets the node's address.
//
// Renders are coalesced: any watched change marks the state dirty and one loop renders at most
// every `minSyncInterval`; unchanged output is not reloaded.
//
// Thread-safety: start() and stop() from the owning thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/informer.h"
#include "client/rest_client.h"
#include "core/status.h"

namespace berth::ingress {

struct IngressOptions {
  std::string stateDir;            // nginx.conf, pid, logs, TLS files (0700)
  std::string nginxBinary = "/usr/sbin/nginx";
  std::string listenAddress;       // empty = all
  int httpPort = 80;
  int httpsPort = 443;
  std::string statusAddress;       // written to Ingress status (the node's address)
  std::string className = "berth-nginx";
  std::chrono::milliseconds minSyncInterval{100};
};

class IngressController {
 public:
  IngressController(client::RestClient& client, IngressOptions options);
  ~IngressController();

  core::Status start();
  void stop();
  // Reloads so far (tests, metrics).
  int reloads() const { return reloads_.load(); }

 private:
  void loop();
  void markDirty();
  core::Status sync();
  core::Status ensureClass();
  bool serves(const boost::json::object& ingress) const;
  core::Status startNginx();
  void superviseNginx();
  void updateStatuses(const std::vector<boost::json::object>& ingresses);

  client::RestClient& client_;
  IngressOptions o_;
  std::unique_ptr<client::SharedInformerFactory> factory_;
  client::SharedInformer* ingresses_ = nullptr;
  client::SharedInformer* classes_ = nullptr;
  client::SharedInformer* services_ = nullptr;
  client::SharedInformer* slices_ = nullptr;
  client::SharedInformer* secrets_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true;
  bool stopping_ = false;
  std::thread loop_;
  std::string lastConfig_;
  pid_t nginx_ = -1;
  std::atomic<int> reloads_{0};
};

}  // namespace berth::ingress
