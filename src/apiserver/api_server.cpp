#include "apiserver/api_server.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/priority.h"
#include "apiserver/admission_reader.h"
#include "apiserver/default_service_accounts.h"
#include "apiserver/api_handler.h"
#include "apiserver/audit.h"
#include "apiserver/authorization.h"
#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/escalation.h"
#include "apiserver/authz/node_restriction.h"
#include "apiserver/authz/request_info.h"
#include "apiserver/apiservices.h"
#include "apiserver/crd/definition.h"
#include "apiserver/crd_hooks.h"
#include "apiserver/http/pki.h"
#include "apiserver/pod_streaming.h"
#include "apiserver/quota_access.h"
#include "apiserver/webhook_source.h"
#include "apiserver/http/server.h"
#include "apiserver/identity_api.h"
#include "apiserver/observability.h"
#include "apiserver/registry.h"
#include "apiserver/replies.h"
#include "apiserver/watch_cache.h"
#include "apiserver/zero_value_migration.h"
#include "client/kubeconfig_writer.h"
#include "core/cluster_dns_ip.h"

namespace berth::apiserver {

namespace fs = std::filesystem;

struct ApiServer::State {
  std::unique_ptr<CacheSet> cache;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<crd::Controller> crds;
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<PodStreamProxy> podStreams;  // pods/log, exec, attach, portforward
  std::unique_ptr<Observability> observability;  // health, metrics, request accounting
  std::unique_ptr<Auditor> auditor;  // null: no audit log
  std::unique_ptr<http::Server> http;
  // Who may do what (issue 9): admission plugins every write passes (the registry runs them)
  // and the authorizer every request is asked of (null: authenticated users may do everything).
  admission::Chain admission;
  std::unique_ptr<authz::Authorizer> authorizer;
  std::unique_ptr<Identity> identity;  // tokens, ServiceAccount token API (identity_api.h)
  // The authorizers of --authorization-mode fed from the cache, bootstrap policy, aggregation.
  std::unique_ptr<Authorization> authorization;
  std::unique_ptr<CacheObjectReader> admissionReader;  // what the plugins read
  std::unique_ptr<DefaultServiceAccounts> defaultServiceAccounts;

  // The steps of ApiServer::start, in the order it runs them.
  core::Status startCache(store::Interface& store, const ApiServerConfig& config,
                          const std::string& caCertFile);
  core::Status buildRegistry(store::Interface& store, const ApiServerConfig& config,
                             const service::Ranges& ranges);
  core::Result<http::Handler> buildHandler(store::Interface& store, const ApiServerConfig& config,
                                           const std::string& tlsDir,
                                           const std::string& adminToken);
  core::Result<http::Handler> withAudit(const ApiServerConfig& config, http::Handler inner);
  core::Status listen(const ApiServerConfig& config, const http::PkiPaths& pki,
                      http::Handler handler);
  core::Status bootstrap(store::Interface& store, const ApiServerConfig& config, int port);

  // Requests and webhook matchConditions ask the same authorizer: the one set here, else the
  // chain of --authorization-mode.
  const authz::Authorizer* requestAuthorizer() const {
    return authorizer ? authorizer.get() : authorization->authorizer();
  }
};

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

core::Status writeFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return core::Status::internal("cannot write " + tmp);
    out << data;
    if (!out.flush()) return core::Status::internal("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return core::Status::internal("cannot rename " + tmp + ": " + ec.message());
  return {};
}

std::string randomHex(size_t bytes) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<uint8_t>(rd());
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

// The system PriorityClasses, as upstream's scheduling storage creates them after start.
core::Status ensureBuiltinPriorityClasses(Registry& registry) {
  const auto* rt = core::findResource("scheduling.k8s.io", "v1", "priorityclasses");
  for (auto& pc : admission::builtinPriorityClasses()) {
    std::string name(pc["metadata"].as_object()["name"].as_string());
    if (registry.get(*rt, "", name).ok()) continue;
    auto created = registry.create(*rt, "", std::move(pc), WriteOptions{});
    if (!created.ok() && !created.status().isAlreadyExists()) return created.status();
  }
  return {};
}

// The data directory with the PKI in <dataDir>/tls (CA, serving certificate) and the admin
// credential: a bearer token kept in the data dir (0600), stable across restarts. Returns the
// token.
core::Result<std::string> prepareDataDir(const ApiServerConfig& config) {
  std::error_code ec;
  fs::create_directories(config.dataDir, ec);
  if (ec) return core::Status::internal("cannot create " + config.dataDir + ": " + ec.message());
  std::string tlsDir = config.dataDir + "/tls";
  fs::create_directories(tlsDir, ec);
  // Keys, the CA and client credentials: the owner's only (keys are also 0600 each).
  ::chmod(tlsDir.c_str(), 0700);
  std::vector<std::string> sans = config.tlsSans;
  sans.push_back(config.bindAddress);
  if (!config.advertiseAddress.empty()) sans.push_back(config.advertiseAddress);
  if (auto st = http::ensurePki(tlsDir, sans); !st.ok()) return st;

  std::string tokenPath = config.dataDir + "/admin.token";
  std::string token = readFile(tokenPath);
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  if (token.empty()) {
    token = randomHex(32);
    if (auto st = writeFile(tokenPath, token + "\n", 0600); !st.ok()) return st;
  }
  return token;
}

// /metrics is answered before the REST handler; it needs authorization as upstream's
// (system:monitoring): anonymous requests are 403 like any other user's unless
// --anonymous-auth=false makes them 401. Health endpoints stay open:
// system:public-info-viewer grants them to everyone, anonymous included.
http::Handler observedHandler(Observability* observability, http::Handler rest,
                              const authz::Authorizer* authorizer, bool anonymousAuth) {
  return [observability, rest, authorizer, anonymousAuth](http::Request& rq,
                                                          http::ResponseWriter& w) {
    if (authorizer != nullptr && (rq.path == "/metrics" || rq.path.rfind("/metrics/", 0) == 0)) {
      if (rq.user.anonymous() && !anonymousAuth) {
        sendStatus(w, core::Status::unauthorized());
        return;
      }
      auto a = authz::requestAttributes(rq.method, rq.path, rq.query);
      a.user = rq.user.anonymous() ? anonymousUser() : rq.user;
      if (auto v = authorizer->authorize(a); !v.allowed()) {
        sendStatus(w, authz::forbiddenStatus(a, v.reason));
        return;
      }
    }
    observability->handle(rq, w, rest);
  };
}

// The server's URL in the admin kubeconfig: a wildcard bind address is reached on loopback.
std::string clientUrl(std::string host, int port) {
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "https://" + host + ":" + std::to_string(port);
}

}  // namespace

const std::string& advertiseAddressOf(const ApiServerConfig& config) {
  return config.advertiseAddress.empty() ? config.bindAddress : config.advertiseAddress;
}

core::Result<ServiceNetwork> resolveServiceNetwork(const ApiServerConfig& config) {
  auto ranges = service::parseRanges(config.serviceClusterIpRange, config.serviceNodePortRange);
  if (!ranges.ok()) return ranges.status();
  std::string primary =
      config.serviceClusterIpRange.substr(0, config.serviceClusterIpRange.find(','));
  // The `kubernetes` Service is SingleStack in the primary family and its one endpoint is the
  // advertise address: of another family, no client could reach the API server through it.
  const std::string& advertise = advertiseAddressOf(config);
  std::string flag = config.advertiseAddress.empty() ? "--bind-address " : "--advertise-address ";
  std::string advertiseFamily = service::ipFamilyOf(advertise);
  if (advertiseFamily.empty())
    return core::Status::badRequest(flag + advertise + ": not an IP address");
  if (advertiseFamily != ranges->primaryFamily()) {
    return core::Status::badRequest(
        "--service-cluster-ip-range " + config.serviceClusterIpRange + " and " + flag +
        advertise + " do not fit: service IP family \"" + primary +
        "\" must match public address family \"" + advertise + "\" (give --advertise-address " +
        "an address of the primary range's family)");
  }
  // The DNS address comes from the primary (first) range, IPv4 or IPv6, of a dual-stack pair.
  auto clusterDns = core::clusterDnsIp(primary, config.clusterDns);
  if (!clusterDns.ok()) return clusterDns.status();
  return ServiceNetwork{std::move(*ranges), std::move(*clusterDns)};
}

core::Status ApiServer::State::startCache(store::Interface& store, const ApiServerConfig& config,
                                          const std::string& caCertFile) {
  crd::installCrdKind();  // before the cache is built, so CRDs get one
  cache = std::make_unique<CacheSet>(store);
  // Before the cache starts: it observes RBAC objects, pods and PVCs.
  authorization = std::make_unique<Authorization>(config.authorizationModes, *cache);
  crds = std::make_unique<crd::Controller>(crdHooks(*cache, registry));
  auto* controller = crds.get();
  cache->addObserver(std::string(crd::kStoragePrefix),
                     [controller](const store::Event& e) { controller->onEvent(e); });
  if (config.ensureDefaultServiceAccounts) {
    defaultServiceAccounts = std::make_unique<DefaultServiceAccounts>(readFile(caCertFile));
    defaultServiceAccounts->observe(*cache);
  }
  return cache->start();
}

// The registry with its admission chain; the CRD controller starts once both exist.
core::Status ApiServer::State::buildRegistry(store::Interface& store, const ApiServerConfig& config,
                                             const service::Ranges& ranges) {
  registry = std::make_unique<Registry>(store, *cache, ranges);
  admissionReader = std::make_unique<CacheObjectReader>(*cache);
  admission::PluginDeps deps;
  deps.reader = admissionReader.get();
  deps.external["NodeRestriction"] = [] { return std::make_unique<authz::NodeRestrictionPlugin>(); };
  auto* reg = registry.get();
  // One plugin calls both kinds of webhooks: mutating ones in the mutating phase, validating
  // ones in the validating phase.
  // matchConditions' authorizer checks use the same authorizer as requests.
  auto authorizerOfRequests = [this]() { return requestAuthorizer(); };
  deps.external["MutatingAdmissionWebhook"] = [reg, authorizerOfRequests] {
    return admission::newAdmissionWebhooks(newRegistryWebhookSource(*reg, authorizerOfRequests));
  };
  // Last in upstream's order (it charges the quota, so it must see the final object).
  deps.external["ResourceQuota"] = [reg] {
    return admission::newResourceQuota(newRegistryQuotaAccess(*reg));
  };
  if (auto st = admission::installBuiltinPlugins(admission, deps, config.enableAdmissionPlugins,
                                                 config.disableAdmissionPlugins);
      !st.ok())
    return st;
  registry->setAdmission(&admission);
  // RBAC's escalation check (upstream: in the RBAC storage, not an admission plugin) after them.
  if (const auto* chain = authorization->authorizer()) {
    if (const auto* rbac = authorization->rbac())
      admission.add(std::make_unique<authz::EscalationPlugin>(*chain, *rbac));
  }
  crds->start();
  return {};
}

// Identity, the REST handler (created before the listener so no request sees a half-built
// server), pod streams, and observability and auditing around them.
core::Result<http::Handler> ApiServer::State::buildHandler(store::Interface& store,
                                                           const ApiServerConfig& config,
                                                           const std::string& tlsDir,
                                                           const std::string& adminToken) {
  ServiceAccountTokenOptions saOptions{config.serviceAccountIssuers, config.apiAudiences,
                                       config.serviceAccountSigningKeyFile,
                                       config.serviceAccountKeyFiles};
  auto built = buildIdentity(tlsDir, adminToken, *cache, admission, saOptions);
  if (!built.ok()) return built.status();
  identity = std::move(*built);
  handler = std::make_unique<ApiHandler>(*registry, *cache, advertiseAddressOf(config));
  auto* api = handler.get();
  const authz::Authorizer* requests = requestAuthorizer();
  api->setAuthorizer(requests);
  api->setIdentity(identity->api.get(), config.anonymousAuth);
  podStreams = std::make_unique<PodStreamProxy>(*registry, tlsDir);
  if (auto st = podStreams->init(); !st.ok()) return st;
  api->setPodStreamProxy(podStreams.get());
  observability = std::make_unique<Observability>(store, *cache);
  observability->addExtraMetrics(config.extraMetrics);
  http::Handler rest = [api](http::Request& rq, http::ResponseWriter& w) { api->handle(rq, w); };
  return withAudit(config, observedHandler(observability.get(), std::move(rest), requests,
                                           config.anonymousAuth));
}

// `inner` behind the audit log when --audit-policy-file and --audit-log-path ask for one.
core::Result<http::Handler> ApiServer::State::withAudit(const ApiServerConfig& config,
                                                        http::Handler inner) {
  if (config.auditPolicyFile.empty() && config.auditLogPath.empty()) return inner;
  if (config.auditPolicyFile.empty() || config.auditLogPath.empty())
    return core::Status::badRequest("auditing needs both --audit-policy-file and --audit-log-path");
  auto policy = loadAuditPolicy(config.auditPolicyFile);
  if (!policy.ok()) return policy.status();
  auto log = AuditLog::open({config.auditLogPath, config.auditLogMaxSizeMB,
                             config.auditLogMaxBackups, config.auditLogMaxAgeDays});
  if (!log.ok()) return log.status();
  auditor = std::make_unique<Auditor>(std::move(*policy), std::move(*log));
  return http::Handler([audit = auditor.get(), inner](http::Request& rq, http::ResponseWriter& w) {
    audit->handle(rq, w, inner);
  });
}

core::Status ApiServer::State::listen(const ApiServerConfig& config, const http::PkiPaths& pki,
                                      http::Handler handler) {
  http::ServerConfig hc;
  hc.bindAddress = config.bindAddress;
  hc.port = static_cast<uint16_t>(config.securePort);
  hc.certFile = pki.servingCert;
  hc.keyFile = pki.servingKey;
  hc.clientCaFile = pki.caCert;
  hc.maxConnections = config.maxConnections;
  hc.handshakeTimeoutSeconds = config.tlsHandshakeTimeoutSeconds;
  hc.idleTimeoutSeconds = config.idleConnectionTimeoutSeconds;
  http = std::make_unique<http::Server>(hc, identity->tokens, std::move(handler));
  return http->start();
}

// The objects a running cluster has from the start (the `kubernetes` Service, system
// PriorityClasses, local APIServices, bootstrap RBAC) and the repair loops; then /readyz is ok.
core::Status ApiServer::State::bootstrap(store::Interface& store, const ApiServerConfig& config,
                                         int port) {
  if (auto n = migrateGoZeroValues(store); !n.ok()) return n.status();
  const std::string& advertise = advertiseAddressOf(config);
  if (auto st = registry->bootstrap(advertise, port, config.clusterDns); !st.ok()) return st;
  registry->startKubernetesServiceRepair(advertise, port);
  if (auto st = ensureBuiltinPriorityClasses(*registry); !st.ok()) return st;
  if (defaultServiceAccounts) defaultServiceAccounts->start(*registry);
  // A create holds its reservation for milliseconds before its write; a minute is ample.
  registry->startServiceAddressRepair(
      std::chrono::seconds(config.serviceRepairIntervalSeconds),
      std::chrono::seconds(std::min(60, std::max(1, config.serviceRepairIntervalSeconds))));
  if (auto st = registerLocalApiServices(*registry); !st.ok()) return st;
  if (auto st = authorization->start(*registry); !st.ok()) return st;
  observability->markBootstrapped();
  return {};
}

ApiServer::ApiServer(ApiServerConfig config, std::unique_ptr<store::Interface> store)
    : config_(std::move(config)), store_(std::move(store)) {}

ApiServer::~ApiServer() { stop(); }

int ApiServer::port() const { return state_ && state_->http ? state_->http->port() : 0; }

core::Status ApiServer::start() {
  auto token = prepareDataDir(config_);
  if (!token.ok()) return token.status();
  adminToken_ = std::move(*token);
  std::string tlsDir = config_.dataDir + "/tls";
  auto pki = http::pkiPathsIn(tlsDir);
  if (auto st = Authorization::validateModes(config_.authorizationModes); !st.ok()) return st;
  state_ = std::make_unique<State>();
  if (auto st = state_->startCache(*store_, config_, pki.caCert); !st.ok()) return st;
  auto network = resolveServiceNetwork(config_);
  if (!network.ok()) return network.status();
  config_.clusterDns = network->clusterDns;
  if (auto st = state_->buildRegistry(*store_, config_, network->ranges); !st.ok()) return st;
  auto handler = state_->buildHandler(*store_, config_, tlsDir, adminToken_);
  if (!handler.ok()) return handler.status();
  if (auto st = state_->listen(config_, pki, std::move(*handler)); !st.ok()) return st;
  int port = state_->http->port();
  if (auto st = state_->bootstrap(*store_, config_, port); !st.ok()) return st;

  client::KubeconfigEntry admin{.server = clientUrl(config_.bindAddress, port),
                                .caPem = readFile(pki.caCert),
                                .userName = "admin",
                                .bearerToken = adminToken_,
                                .defaultNamespace = "default"};
  kubeconfigPath_ = config_.dataDir + "/admin.kubeconfig";
  return client::writeKubeconfig(kubeconfigPath_, admin);
}

void ApiServer::stop() {
  if (!state_) return;
  if (state_->observability) state_->observability->markShuttingDown();
  if (state_->handler) state_->handler->stop();
  if (state_->http) state_->http->stop();
  if (state_->authorization) state_->authorization->stop();
  if (state_->crds) state_->crds->stop();
  if (state_->defaultServiceAccounts) state_->defaultServiceAccounts->stop();
  if (state_->registry) state_->registry->stop();
  if (state_->cache) state_->cache->stop();
  state_.reset();
  if (store_) store_->close();
}

}  // namespace berth::apiserver
