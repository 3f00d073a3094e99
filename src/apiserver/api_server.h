#pragma once
// ApiServer: the assembled API server — PKI and credentials in the data directory, the store,
// the watch cache, the registry, the REST handler and the HTTPS listener — with an explicit
// start()/stop() lifecycle. `berth server` runs one; tests run one in-process.
//
// Thread-safety: start() and stop() from one owning thread; the running server serves requests
// on its own threads.
#include <memory>
#include <string>
#include <vector>

#include "apiserver/service/addresses.h"
#include "core/result.h"
#include "core/status.h"
#include "metrics/metrics.h"
#include "store/interface.h"

namespace berth::apiserver {

struct ApiServerConfig {
  std::string dataDir = "/var/lib/berth";
  std::string bindAddress = "127.0.0.1";
  // The address clients are given (upstream's --advertise-address): the `kubernetes` Service's
  // endpoint, discovery's serverAddressByClientCIDRs, a SAN of the serving certificate.
  // "" = bindAddress. Its family must be the primary Service range's (resolveServiceNetwork).
  std::string advertiseAddress;
  int securePort = 6443;  // 0 = any free port (tests)
  // Extra names and addresses for the serving certificate.
  std::vector<std::string> tlsSans;
  // Connection limits of the HTTPS listener (see http::ServerConfig).
  size_t maxConnections = 10000;
  int tlsHandshakeTimeoutSeconds = 10;
  int idleConnectionTimeoutSeconds = 90;
  // Requests without credentials reach the authorizer as system:anonymous (upstream's
  // --anonymous-auth, default true); false answers them 401.
  bool anonymousAuth = true;
  // Service ClusterIPs and NodePorts (upstream's flags of the same names), and how often the
  // repair of their reservations runs (upstream's 3 min; 0 = only at start).
  std::string serviceClusterIpRange = "10.96.0.0/12";
  std::string serviceNodePortRange = "30000-32767";
  // The kube-dns Service's ClusterIP (--cluster-dns); empty = the 10th address of the range.
  std::string clusterDns;
  int serviceRepairIntervalSeconds = 180;
  // Metrics of components running in the same process (controllers, scheduler, kubelet),
  // appended to /metrics. Each must outlive the server.
  std::vector<const metrics::Registry*> extraMetrics;
  // Admission plugins on top of / taken from upstream's default set (names as upstream's
  // --enable-admission-plugins / --disable-admission-plugins).
  std::vector<std::string> enableAdmissionPlugins;
  std::vector<std::string> disableAdmissionPlugins;
  // Create the `default` ServiceAccount and kube-root-ca.crt ConfigMap in every namespace from
  // inside the server (default_service_accounts.h); set only when no controller manager runs
  // (--disable-controllers), which is what makes them otherwise.
  bool ensureDefaultServiceAccounts = true;
  // Auditing (audit.h): both set, or no audit log.
  std::string auditPolicyFile;
  std::string auditLogPath;  // "-" = standard output
  int auditLogMaxSizeMB = 100;
  int auditLogMaxBackups = 0;
  int auditLogMaxAgeDays = 0;
  // --authorization-mode: authorizers in chain order (Node, RBAC, AlwaysAllow), after the
  // always-allowed system:masters group. AlwaysAllow first turns authorization off.
  std::vector<std::string> authorizationModes = {"Node", "RBAC"};
  // ServiceAccount tokens: --service-account-issuer (repeatable; the first signs),
  // --api-audiences, --service-account-signing-key-file, --service-account-key-file.
  std::vector<std::string> serviceAccountIssuers;
  std::vector<std::string> apiAudiences;
  std::string serviceAccountSigningKeyFile;
  std::vector<std::string> serviceAccountKeyFiles;
};

// The Service network a config describes: its ClusterIP and NodePort ranges, and the cluster DNS
// address (config.clusterDns, or the one derived from the primary range). BadRequest naming the
// flag when one is malformed, or when the advertise address is not of the primary range's family
// (upstream's validatePublicIPServiceClusterIPRangeIPFamilies: the `kubernetes` ClusterIP would
// have no endpoint of its family). start() resolves it; `berth server` also does before it opens the
// store, so that bad flags fail before anything is written.
struct ServiceNetwork {
  service::Ranges ranges;
  std::string clusterDns;
};
core::Result<ServiceNetwork> resolveServiceNetwork(const ApiServerConfig& config);
// config.advertiseAddress, else config.bindAddress.
const std::string& advertiseAddressOf(const ApiServerConfig& config);

class ApiServer {
 public:
  ApiServer(ApiServerConfig config, std::unique_ptr<store::Interface> store);
  ~ApiServer();

  core::Status start();
  void stop();

  int port() const;
  const std::string& kubeconfigPath() const { return kubeconfigPath_; }
  const std::string& adminToken() const { return adminToken_; }

 private:
  struct State;
  ApiServerConfig config_;
  std::unique_ptr<store::Interface> store_;
  std::unique_ptr<State> state_;
  std::string kubeconfigPath_;
  std::string adminToken_;
};

}  // namespace berth::apiserver
