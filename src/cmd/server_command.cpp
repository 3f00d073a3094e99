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
#include "apiserver/service/addresses.h"
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

int runServer(ServerFlags flags) {
  auto signals = blockShutdownSignals();
  raiseOpenFileLimit(flags.config.maxConnections);
  // The ranges first: their errors name the flags (the cluster DNS address is derived from one).
  if (auto ranges = apiserver::service::parseRanges(flags.config.serviceClusterIpRange,
                                                    flags.config.serviceNodePortRange);
      !ranges.ok()) {
    std::cerr << "berth: " << ranges.status().message() << "\n";
    return 1;
  }
  if (auto why = checkControllerFlags(flags.controllerFlags); !why.empty()) {
    std::cerr << "berth: " << why << "\n";
    return 1;
  }
  // One cluster DNS address for the kube-dns Service, the agent's pods and its DNS zone.
  // Dual-stack: the DNS address comes from the first (primary) range, IPv4 or IPv6.
  std::string primaryRange =
      flags.config.serviceClusterIpRange.substr(0, flags.config.serviceClusterIpRange.find(','));
  auto clusterDns = core::clusterDnsIp(primaryRange, flags.agent.clusterDns);
  if (!clusterDns.ok()) {
    std::cerr << "berth: " << clusterDns.status().message() << "\n";
    return 1;
  }
  flags.config.clusterDns = flags.agent.clusterDns = *clusterDns;
  flags.agent.proxyRules.serviceCidr = flags.config.serviceClusterIpRange;  // split by the proxy

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
  // Each in-process component acts as its own user (component_identity.h).
  auto identity = [&](const std::string& stem, const std::string& user,
                      const std::vector<std::string>& groups) {
    auto c = componentCredentials(flags.config.dataDir, rest.value(), stem, user, groups);
    if (!c.ok()) std::cerr << "berth: " << stem << " credentials: " << c.status().message() << "\n";
    return c;
  };
  // NetworkPolicy enforcement's own identity (network_policy_identity.h), for the in-process
  // agent and, through the kubeconfig it writes, for `berth netpol` and remote agents.
  auto networkPolicyCreds = identity("network-policy", apiserver::authz::kNetworkPolicyUser, {});
  if (!networkPolicyCreds.ok()) return 1;
  std::unique_ptr<controllers::ControllerManager> manager;
  if (!flags.disableControllers) {
    auto creds = identity("controller-manager", "system:kube-controller-manager", {});
    if (!creds.ok()) return 1;
    controllers::ControllerManagerOptions options;
    options.rest = *creds;
    options.controllers = flags.controllers;
    options.flags = flags.controllerFlags;
    // The cluster CA signs approved client CSRs (its key is in the same data dir).
    options.flags.try_emplace("cluster-signing-cert-file", flags.config.dataDir + "/tls/ca.crt");
    options.flags.try_emplace("cluster-signing-key-file", flags.config.dataDir + "/tls/ca.key");
    options.flags.try_emplace(
        "local-path-dir",
        std::filesystem::absolute(flags.config.dataDir).lexically_normal().string() + "/storage");
    options.metrics = &componentMetrics;
    // One identity per data dir and host: a server restarted after a crash (kill -9) finds
    // its own name on the Lease and leads again at once, instead of waiting out the lease
    // its previous life left behind (namespace deletion and GC resume within seconds).
    options.identity = controllerIdentity(flags.config.dataDir);
    manager = std::make_unique<controllers::ControllerManager>(options);
    if (auto st = manager->start(); !st.ok()) {
      std::cerr << "berth: controller manager: " << st.message() << "\n";
      return 1;
    }
  }

  std::unique_ptr<scheduler::Scheduler> sched;
  if (!flags.disableScheduler) {
    auto creds = identity("scheduler", "system:kube-scheduler", {});
    if (!creds.ok()) return 1;
    scheduler::SchedulerOptions options;
    options.rest = *creds;
    options.metrics = &componentMetrics;
    sched = std::make_unique<scheduler::Scheduler>(options);
    if (auto st = sched->start(); !st.ok()) {
      std::cerr << "berth: scheduler: " << st.message() << "\n";
      return 1;
    }
  }

  // The server's own node (named after the host), as k3s runs its agent in the server.
  std::unique_ptr<kubelet::Agent> agent;
  if (!flags.disableAgent) {
    flags.agent.nodeName = nodeNameOrHost(flags.agent.nodeName);
    auto creds = identity("node", "system:node:" + flags.agent.nodeName, {"system:nodes"});
    if (!creds.ok()) return 1;
    flags.agent.rest = *creds;
    flags.agent.networkPolicyRest = *networkPolicyCreds;
    flags.agent.dataDir = flags.config.dataDir + "/agent";
    // Its local-path volumes live where the provisioner's --local-path-dir says.
    auto localPath = flags.controllerFlags.find("local-path-dir");
    flags.agent.localPathDir =
        localPath != flags.controllerFlags.end() && !localPath->second.empty()
            ? localPath->second
            : flags.config.dataDir + "/storage";
    if (flags.agent.registryConfig.empty())
      flags.agent.registryConfig = flags.config.dataDir + "/registries.yaml";
    flags.agent.metrics = &componentMetrics;
    if (auto it = flags.controllerFlags.find("cluster-cidr"); it != flags.controllerFlags.end())
      flags.agent.proxyRules.clusterCidr = it->second;  // the proxy masquerades clients outside it
    agent = std::make_unique<kubelet::Agent>(flags.agent);
    if (auto st = agent->start(); !st.ok()) {
      std::cerr << "berth: agent: " << st.message() << "\n";
      return 1;
    }
  }

  // The ingress controller and its nginx, on this node (with the agent unless told otherwise).
  std::unique_ptr<client::RestClient> ingressClient;
  std::unique_ptr<ingress::IngressController> ingressController;
  bool wantIngress = flags.ingressMode == "on" || (flags.ingressMode == "auto" && agent);
  if (wantIngress) {
    flags.ingress.stateDir = flags.config.dataDir + "/ingress";
    if (flags.ingress.statusAddress.empty()) {
      // A dual-stack --node-ip "v4,v6": the primary one.
      std::string nodeIP = flags.agent.nodeIP.substr(0, flags.agent.nodeIP.find(','));
      flags.ingress.statusAddress = !nodeIP.empty() ? nodeIP : flags.config.bindAddress;
    }
    auto creds = identity("ingress", "system:berth:ingress-controller", {});
    if (!creds.ok()) return 1;
    auto c = client::RestClient::create(*creds);
    if (!c.ok()) {
      std::cerr << "berth: ingress: " << c.status().message() << "\n";
      return 1;
    }
    ingressClient = std::move(*c);
    ingressController =
        std::make_unique<ingress::IngressController>(*ingressClient, flags.ingress);
    if (auto st = ingressController->start(); !st.ok()) {
      std::cerr << "berth: ingress: " << st.message() << "\n";
      if (flags.ingressMode == "on") return 1;
      ingressController.reset();
    }
  }

  waitForShutdownSignal(signals);
  std::cout << "berth: shutting down" << std::endl;
  if (agent) agent->shutdownGracefully();  // with --shutdown-grace-period: pods stop first
  if (ingressController) ingressController->stop();
  if (agent) agent->stop();
  if (sched) sched->stop();
  if (manager) manager->stop();
  server.stop();
  return 0;
}

}  // namespace

void addServerCommand(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  auto& config = flags->config;
  auto* server = app.add_subcommand("server", "Run the control plane (API server and store)");
  server->add_option("--data-dir", config.dataDir, "State directory")->capture_default_str();
  server->add_option("--bind-address", config.bindAddress, "Address to listen on")
      ->capture_default_str();
  server->add_option("--secure-port", config.securePort, "HTTPS port (0 = any free port)")
      ->capture_default_str();
  server->add_option("--datastore", flags->datastore, "sqlite (embedded, default) or memory")
      ->capture_default_str();
  server->add_option("--tls-san", config.tlsSans, "Extra SAN for the serving certificate");
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
  server->add_option("--ingress", flags->ingressMode,
                     "The built-in ingress controller (nginx): auto = with the node agent, on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  server->add_option("--ingress-http-port", flags->ingress.httpPort, "Ingress HTTP port")
      ->capture_default_str();
  server->add_option("--ingress-https-port", flags->ingress.httpsPort, "Ingress HTTPS port")
      ->capture_default_str();
  server->add_option("--ingress-status-address", flags->ingress.statusAddress,
                     "Address written to Ingress status (default: the node IP or bind address)");
  server->add_option("--encryption-provider-config", flags->encryptionConfig,
                     "EncryptionConfiguration file (apiserver.config.k8s.io/v1): resources whose "
                     "values are encrypted at rest (aesgcm, aescbc, secretbox, identity)");
  server
      ->add_option("--authorization-mode", config.authorizationModes,
                   "Authorizers in order: Node, RBAC, AlwaysAllow (AlwaysAllow alone: off)")
      ->delimiter(',')
      ->capture_default_str();
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
  server
      ->add_option("--enable-admission-plugins", config.enableAdmissionPlugins,
                   "Admission plugins to enable in addition to the default ones (comma-separated; "
                   "the order does not matter, upstream's is used)")
      ->delimiter(',');
  server
      ->add_option("--disable-admission-plugins", config.disableAdmissionPlugins,
                   "Admission plugins to disable even if in the default list (comma-separated)")
      ->delimiter(',');
  server
      ->add_option("--service-cluster-ip-range", config.serviceClusterIpRange,
                   "CIDR of Service ClusterIPs (the `kubernetes` Service gets its first address); "
                   "dual-stack: an IPv4,IPv6 pair (10.96.0.0/12,fd00:10:96::/112, IPv6 /108../126)")
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
  addControllerFlags(server, flags->controllerFlags);
  server->add_flag("--disable-controllers", flags->disableControllers,
                   "Run no controllers in this process (run `berth controller-manager` instead)");
  server->add_flag("--disable-scheduler", flags->disableScheduler,
                   "Run no scheduler in this process (run `berth scheduler` instead)");
  server
      ->add_option("--controllers", flags->controllers,
                   "Controllers to run: * = the defaults, name = also this one, -name = not this")
      ->delimiter(',')
      ->capture_default_str();
  server->add_flag("--disable-agent", flags->disableAgent,
                   "Run no node agent in this process (the control plane alone)");
  addAgentFlags(*server, flags->agent);
  server->callback([flags] { exitCode = runServer(*flags); });
}

}  // namespace berth::cmd
