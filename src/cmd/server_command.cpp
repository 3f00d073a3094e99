// `berth server`: the control plane with the embedded store, and by default the controllers
// in the same process (each an API client with its own connection, as if remote).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "apiserver/api_server.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "client/rest_client.h"
#include "cmd/commands.h"
#include "cmd/component_identity.h"
#include "cmd/controller_flags.h"
#include "cmd/signals.h"
#include "controllers/manager/controller_manager.h"
#include "core/cluster_dns_ip.h"
#include "ingress/ingress_controller.h"
#include "kubelet/agent.h"
#include "metrics/metrics.h"
#include "scheduler/scheduler.h"
#include "store/encryption/encrypting_store.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace berth::cmd {

namespace {

struct ServerFlags {
  apiserver::ApiServerConfig config;
  std::string datastore = "sqlite";
  std::string encryptionConfig;  // --encryption-provider-config
  std::string ingressMode = "auto";  // auto: with the node agent; on; off
  ingress::IngressOptions ingress;
  bool disableControllers = false;
  bool disableAgent = false;
  kubelet::AgentOptions agent;
  bool disableScheduler = false;
  std::vector<std::string> controllers{"*"};
  std::map<std::string, std::string> controllerFlags;
};

// Every connection is a descriptor; the default soft limit (1024) would cap the server long
// before --max-connections. Raise it to the hard limit, as Go's runtime does for every program.
void raiseOpenFileLimit(size_t maxConnections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < maxConnections + 256) {
    std::cerr << "berth: warning: the open-file limit (" << limit.rlim_cur
              << ") is below --max-connections; new connections will back off when it is hit\n";
  }
}

// The store holds every Secret: its directory and files are the owner's only, as upstream's
// etcd data dir (0700). Tightened on every start, so older data dirs are fixed too; SQLite
// gives its -wal and -shm files the database file's mode.
void restrictStoreFiles(const std::string& dbDir) {
  ::chmod(dbDir.c_str(), 0700);
  for (const char* f : {"/state.db", "/state.db-wal", "/state.db-shm"})
    ::chmod((dbDir + f).c_str(), 0600);
}

std::unique_ptr<store::Interface> openBackend(const ServerFlags& flags) {
  if (flags.datastore == "sqlite") {
    std::string dbDir = flags.config.dataDir + "/db";
    std::filesystem::create_directories(dbDir);
    restrictStoreFiles(dbDir);
    auto s = store::SqliteStore::open(dbDir + "/state.db");
    if (!s.ok()) {
      std::cerr << "berth: cannot open the store: " << s.status().message() << "\n";
      return nullptr;
    }
    restrictStoreFiles(dbDir);
    // Keep ~10,000 revisions of history (what lagging watchers and paginated lists need; the
    // watch cache keeps its own), compacting every minute in small batches, as upstream's
    // apiserver asks etcd to every five minutes.
    s.value()->startAutoCompaction(std::chrono::seconds(60), 10000);
    return std::move(s.value());
  }
  if (flags.datastore == "memory") return std::make_unique<store::MemoryStore>();
  std::cerr << "berth: unknown --datastore " << flags.datastore << " (sqlite, memory)\n";
  return nullptr;
}

// The backend, behind value encryption when --encryption-provider-config names a file.
std::unique_ptr<store::Interface> openStore(const ServerFlags& flags) {
  std::optional<store::encryption::Config> encryption;
  if (!flags.encryptionConfig.empty()) {
    auto cfg = store::encryption::loadConfig(flags.encryptionConfig);
    if (!cfg.ok()) {
      std::cerr << "berth: " << cfg.status().message() << "\n";
      return nullptr;
    }
    encryption = std::move(*cfg);
  }
  auto backend = openBackend(flags);
  if (!backend || !encryption) return backend;
  return std::make_unique<store::encryption::EncryptingStore>(
      std::move(backend), std::move(*encryption), store::encryption::resourceOfKeyFromCatalogue());
}

std::string controllerIdentity(const std::string& dataDir) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::error_code ec;
  auto dir = std::filesystem::weakly_canonical(dataDir, ec).string();
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "_%016zx", std::hash<std::string>{}(dir));
  return std::string(host) + suffix;
}

// The flags no single option can check: the Service network (its errors name the flags; the
// cluster DNS address is derived from one) and the controllers' flags together. Resolves the
// cluster DNS address the API server, the agent's pods and its DNS zone share. False: the reason
// is on stderr.
bool resolveFlags(ServerFlags& flags) {
  flags.config.clusterDns = flags.agent.clusterDns;  // --cluster-dns is an agent flag
  auto network = apiserver::resolveServiceNetwork(flags.config);
  if (!network.ok()) {
    std::cerr << "berth: " << network.status().message() << "\n";
    return false;
  }
  if (auto why = checkControllerFlags(flags.controllerFlags); !why.empty()) {
    std::cerr << "berth: " << why << "\n";
    return false;
  }
  flags.config.clusterDns = flags.agent.clusterDns = network->clusterDns;
  flags.agent.proxyRules.serviceCidr = flags.config.serviceClusterIpRange;  // split by the proxy
  return true;
}

// The components `berth server` runs beside the API server, each an API client acting as its own
// user (component_identity.h), as if remote. Members are declared in start order, so that on a
// failed start the destructors stop them in reverse.
//
// Thread-safety: the starting thread only.
class InProcessComponents {
 public:
  InProcessComponents(ServerFlags& flags, const client::RestConfig& admin,
                      metrics::Registry& componentMetrics)
      : flags_(flags), admin_(admin), metrics_(componentMetrics) {}

  // False: a component failed to start (the reason is on stderr).
  bool start() {
    // NetworkPolicy enforcement's own identity (network_policy_identity.h), for the in-process
    // agent and, through the kubeconfig it writes, for `berth netpol` and remote agents.
    auto networkPolicyCreds = identity("network-policy", apiserver::authz::kNetworkPolicyUser, {});
    if (!networkPolicyCreds.ok()) return false;
    return startControllerManager() && startScheduler() && startAgent(*networkPolicyCreds) &&
           startIngress();
  }

  void stop() {
    if (agent_) agent_->shutdownGracefully();  // with --shutdown-grace-period: pods stop first
    if (ingressController_) ingressController_->stop();
    if (agent_) agent_->stop();
    if (scheduler_) scheduler_->stop();
    if (manager_) manager_->stop();
  }

 private:
  core::Result<client::RestConfig> identity(const std::string& stem, const std::string& user,
                                            const std::vector<std::string>& groups) {
    auto c = componentCredentials(flags_.config.dataDir, admin_, stem, user, groups);
    if (!c.ok()) std::cerr << "berth: " << stem << " credentials: " << c.status().message() << "\n";
    return c;
  }

  static bool started(const char* component, const core::Status& st) {
    if (!st.ok()) std::cerr << "berth: " << component << ": " << st.message() << "\n";
    return st.ok();
  }

  bool startControllerManager() {
    if (flags_.disableControllers) return true;
    auto creds = identity("controller-manager", "system:kube-controller-manager", {});
    if (!creds.ok()) return false;
    const std::string& dataDir = flags_.config.dataDir;
    controllers::ControllerManagerOptions options;
    options.rest = *creds;
    options.controllers = flags_.controllers;
    options.flags = flags_.controllerFlags;
    // The cluster CA signs approved client CSRs (its key is in the same data dir).
    options.flags.try_emplace("cluster-signing-cert-file", dataDir + "/tls/ca.crt");
    options.flags.try_emplace("cluster-signing-key-file", dataDir + "/tls/ca.key");
    options.flags.try_emplace(
        "local-path-dir",
        std::filesystem::absolute(dataDir).lexically_normal().string() + "/storage");
    options.metrics = &metrics_;
    // One identity per data dir and host: a server restarted after a crash (kill -9) finds
    // its own name on the Lease and leads again at once, instead of waiting out the lease
    // its previous life left behind (namespace deletion and GC resume within seconds).
    options.identity = controllerIdentity(dataDir);
    manager_ = std::make_unique<controllers::ControllerManager>(options);
    return started("controller manager", manager_->start());
  }

  bool startScheduler() {
    if (flags_.disableScheduler) return true;
    auto creds = identity("scheduler", "system:kube-scheduler", {});
    if (!creds.ok()) return false;
    scheduler::SchedulerOptions options;
    options.rest = *creds;
    options.metrics = &metrics_;
    scheduler_ = std::make_unique<scheduler::Scheduler>(options);
    return started("scheduler", scheduler_->start());
  }

  // The server's own node (named after the host), as k3s runs its agent in the server.
  bool startAgent(const client::RestConfig& networkPolicyCreds) {
    if (flags_.disableAgent) return true;
    kubelet::AgentOptions& agent = flags_.agent;
    const std::string& dataDir = flags_.config.dataDir;
    agent.nodeName = nodeNameOrHost(agent.nodeName);
    auto creds = identity("node", "system:node:" + agent.nodeName, {"system:nodes"});
    if (!creds.ok()) return false;
    agent.rest = *creds;
    agent.networkPolicyRest = networkPolicyCreds;
    agent.dataDir = dataDir + "/agent";
    // Its local-path volumes live where the provisioner's --local-path-dir says.
    auto localPath = flags_.controllerFlags.find("local-path-dir");
    agent.localPathDir = localPath != flags_.controllerFlags.end() && !localPath->second.empty()
                             ? localPath->second
                             : dataDir + "/storage";
    if (agent.registryConfig.empty()) agent.registryConfig = dataDir + "/registries.yaml";
    agent.metrics = &metrics_;
    if (auto it = flags_.controllerFlags.find("cluster-cidr"); it != flags_.controllerFlags.end())
      agent.proxyRules.clusterCidr = it->second;  // the proxy masquerades clients outside it
    agent_ = std::make_unique<kubelet::Agent>(agent);
    return started("agent", agent_->start());
  }

  // The ingress controller and its nginx, on this node (with the agent unless told otherwise).
  // With --ingress=auto a controller that fails to start is left out, not fatal.
  bool startIngress() {
    bool wantIngress = flags_.ingressMode == "on" || (flags_.ingressMode == "auto" && agent_);
    if (!wantIngress) return true;
    ingress::IngressOptions& options = flags_.ingress;
    options.stateDir = flags_.config.dataDir + "/ingress";
    if (options.statusAddress.empty()) {
      // A dual-stack --node-ip "v4,v6": the primary one.
      std::string nodeIP = flags_.agent.nodeIP.substr(0, flags_.agent.nodeIP.find(','));
      options.statusAddress = !nodeIP.empty() ? nodeIP : flags_.config.bindAddress;
    }
    auto creds = identity("ingress", "system:berth:ingress-controller", {});
    if (!creds.ok()) return false;
    auto c = client::RestClient::create(*creds);
    if (!started("ingress", c.status())) return false;
    ingressClient_ = std::move(*c);
    ingressController_ = std::make_unique<ingress::IngressController>(*ingressClient_, options);
    if (started("ingress", ingressController_->start())) return true;
    if (flags_.ingressMode == "on") return false;
    ingressController_.reset();
    return true;
  }

  ServerFlags& flags_;
  const client::RestConfig& admin_;
  metrics::Registry& metrics_;
  std::unique_ptr<controllers::ControllerManager> manager_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<kubelet::Agent> agent_;
  std::unique_ptr<client::RestClient> ingressClient_;
  std::unique_ptr<ingress::IngressController> ingressController_;
};

int runServer(ServerFlags flags) {
  auto signals = blockShutdownSignals();
  raiseOpenFileLimit(flags.config.maxConnections);
  if (!resolveFlags(flags)) return 1;
  auto store = openStore(flags);
  if (!store) return 1;
  // The in-process components' metrics appear on the server's /metrics.
  metrics::Registry componentMetrics;
  flags.config.extraMetrics.push_back(&componentMetrics);
  // The serviceaccount and root-ca-cert-publisher controllers make the default ServiceAccount
  // and kube-root-ca.crt; without controllers the server does it itself, so pods still pass
  // ServiceAccount admission.
  flags.config.ensureDefaultServiceAccounts = flags.disableControllers;
  apiserver::ApiServer server(flags.config, std::move(store));
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "berth: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth: API server listening on https://" << flags.config.bindAddress << ":"
            << server.port() << "\n"
            << "berth: export KUBECONFIG=" << server.kubeconfigPath() << std::endl;

  auto rest = client::loadKubeconfig(server.kubeconfigPath());
  if (!rest.ok()) {
    std::cerr << "berth: " << rest.status().message() << "\n";
    return 1;
  }
  InProcessComponents components(flags, *rest, componentMetrics);
  if (!components.start()) return 1;

  waitForShutdownSignal(signals);
  std::cout << "berth: shutting down" << std::endl;
  components.stop();
  server.stop();
  return 0;
}

// Where the server listens and keeps its state.
void addListenerFlags(CLI::App* server, ServerFlags& flags) {
  auto& config = flags.config;
  server->add_option("--data-dir", config.dataDir, "State directory")->capture_default_str();
  server->add_option("--bind-address", config.bindAddress, "Address to listen on")
      ->capture_default_str();
  server->add_option("--advertise-address", config.advertiseAddress,
                     "Address the `kubernetes` Service's endpoint gives clients, of the primary "
                     "Service range's family (default: --bind-address)");
  server->add_option("--secure-port", config.securePort, "HTTPS port (0 = any free port)")
      ->capture_default_str();
  server->add_option("--datastore", flags.datastore, "sqlite (embedded, default) or memory")
      ->capture_default_str();
  server->add_option("--tls-san", config.tlsSans, "Extra SAN for the serving certificate");
}

void addAuditFlags(CLI::App* server, apiserver::ApiServerConfig& config) {
  server->add_option("--audit-policy-file", config.auditPolicyFile,
                     "audit.k8s.io/v1 Policy: which requests are logged, at what level");
  server->add_option("--audit-log-path", config.auditLogPath,
                     "Audit log file (one audit.k8s.io/v1 Event per line; - = stdout)");
  server->add_option("--audit-log-maxsize", config.auditLogMaxSizeMB,
                     "Megabytes before the audit log is rotated")
      ->capture_default_str();
  server->add_option("--audit-log-maxbackup", config.auditLogMaxBackups,
                     "Rotated audit logs to keep (0 = all)");
  server->add_option("--audit-log-maxage", config.auditLogMaxAgeDays,
                     "Days to keep rotated audit logs (0 = forever)");
}

void addIngressFlags(CLI::App* server, ServerFlags& flags) {
  server
      ->add_option("--ingress", flags.ingressMode,
                   "The built-in ingress controller (nginx): auto = with the node agent, on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  server->add_option("--ingress-http-port", flags.ingress.httpPort, "Ingress HTTP port")
      ->capture_default_str();
  server->add_option("--ingress-https-port", flags.ingress.httpsPort, "Ingress HTTPS port")
      ->capture_default_str();
  server->add_option("--ingress-status-address", flags.ingress.statusAddress,
                     "Address written to Ingress status (default: the node IP or bind address)");
}

// Encryption at rest and authorization.
void addProtectionFlags(CLI::App* server, ServerFlags& flags) {
  server->add_option("--encryption-provider-config", flags.encryptionConfig,
                     "EncryptionConfiguration file (apiserver.config.k8s.io/v1): resources whose "
                     "values are encrypted at rest (aesgcm, aescbc, secretbox, identity)");
  server
      ->add_option("--authorization-mode", flags.config.authorizationModes,
                   "Authorizers in order: Node, RBAC, AlwaysAllow (AlwaysAllow alone: off)")
      ->delimiter(',')
      ->capture_default_str();
}

void addConnectionFlags(CLI::App* server, apiserver::ApiServerConfig& config) {
  server
      ->add_option("--max-connections", config.maxConnections,
                   "Open client connections at most; more wait in the accept backlog")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  server
      ->add_option("--tls-handshake-timeout", config.tlsHandshakeTimeoutSeconds,
                   "Seconds a new connection has to complete its TLS handshake")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  server
      ->add_option("--idle-connection-timeout", config.idleConnectionTimeoutSeconds,
                   "Seconds a keep-alive connection may wait between requests (0 = forever)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

// ServiceAccount tokens and anonymous requests.
void addAuthenticationFlags(CLI::App* server, apiserver::ApiServerConfig& config) {
  server->add_option("--service-account-issuer", config.serviceAccountIssuers,
                     "Issuer (iss) of ServiceAccount tokens; repeatable: the first signs new "
                     "tokens, all are accepted (default https://kubernetes.default.svc.cluster.local)");
  server
      ->add_option("--api-audiences", config.apiAudiences,
                   "Audiences a ServiceAccount token must carry to authenticate to this server "
                   "(comma-separated; default: the issuers)")
      ->delimiter(',');
  server
      ->add_option("--service-account-signing-key-file", config.serviceAccountSigningKeyFile,
                   "PEM private key (RSA or P-256) that signs ServiceAccount tokens (default: "
                   "<data-dir>/tls/sa.key, generated on first start)")
      ->check(CLI::ExistingFile);
  server
      ->add_option("--service-account-key-file", config.serviceAccountKeyFiles,
                   "PEM file of public or private keys that also verify ServiceAccount tokens "
                   "(repeatable; for key rotation)")
      ->check(CLI::ExistingFile);
  server
      ->add_option("--anonymous-auth", config.anonymousAuth,
                   "Requests without credentials are system:anonymous for the authorizer "
                   "(false: 401)")
      ->capture_default_str();
}

void addAdmissionFlags(CLI::App* server, apiserver::ApiServerConfig& config) {
  server
      ->add_option("--enable-admission-plugins", config.enableAdmissionPlugins,
                   "Admission plugins to enable in addition to the default ones (comma-separated; "
                   "the order does not matter, upstream's is used)")
      ->delimiter(',');
  server
      ->add_option("--disable-admission-plugins", config.disableAdmissionPlugins,
                   "Admission plugins to disable even if in the default list (comma-separated)")
      ->delimiter(',');
}

void addServiceNetworkFlags(CLI::App* server, apiserver::ApiServerConfig& config) {
  server
      ->add_option("--service-cluster-ip-range", config.serviceClusterIpRange,
                   "CIDR of Service ClusterIPs (the `kubernetes` Service gets its first address); "
                   "IPv6-only: an IPv6 CIDR (/108../126); dual-stack: a pair, the primary first "
                   "(10.96.0.0/12,fd00:10:96::/112)")
      ->capture_default_str();
  server
      ->add_option("--service-node-port-range", config.serviceNodePortRange,
                   "Port range of Service NodePorts")
      ->capture_default_str();
  server
      ->add_option("--service-repair-interval", config.serviceRepairIntervalSeconds,
                   "Seconds between repairs of ClusterIP/NodePort reservations (0 = at start only)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

// Which components run in this process, and their own flags.
void addInProcessComponentFlags(CLI::App* server, ServerFlags& flags) {
  addControllerFlags(server, flags.controllerFlags);
  server->add_flag("--disable-controllers", flags.disableControllers,
                   "Run no controllers in this process (run `berth controller-manager` instead)");
  server->add_flag("--disable-scheduler", flags.disableScheduler,
                   "Run no scheduler in this process (run `berth scheduler` instead)");
  server
      ->add_option("--controllers", flags.controllers,
                   "Controllers to run: * = the defaults, name = also this one, -name = not this")
      ->delimiter(',')
      ->capture_default_str();
  server->add_flag("--disable-agent", flags.disableAgent,
                   "Run no node agent in this process (the control plane alone)");
  addAgentFlags(*server, flags.agent);
}

}  // namespace

void addServerCommand(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  auto* server = app.add_subcommand("server", "Run the control plane (API server and store)");
  // In this order in --help.
  addListenerFlags(server, *flags);
  addAuditFlags(server, flags->config);
  addIngressFlags(server, *flags);
  addProtectionFlags(server, *flags);
  addConnectionFlags(server, flags->config);
  addAuthenticationFlags(server, flags->config);
  addAdmissionFlags(server, flags->config);
  addServiceNetworkFlags(server, flags->config);
  addInProcessComponentFlags(server, *flags);
  server->callback([flags] { exitCode = runServer(*flags); });
}

}  // namespace berth::cmd
