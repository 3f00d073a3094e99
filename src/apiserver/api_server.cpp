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
#include "core/cluster_dns_ip.h"
#include "core/base64.h"

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

}  // namespace

ApiServer::ApiServer(ApiServerConfig config, std::unique_ptr<store::Interface> store)
    : config_(std::move(config)), store_(std::move(store)) {}

ApiServer::~ApiServer() { stop(); }

int ApiServer::port() const { return state_ && state_->http ? state_->http->port() : 0; }

core::Status ApiServer::start() {
  std::error_code ec;
  fs::create_directories(config_.dataDir, ec);
  if (ec) return core::Status::internal("cannot create " + config_.dataDir + ": " + ec.message());
  std::string tlsDir = config_.dataDir + "/tls";
  fs::create_directories(tlsDir, ec);
  // Keys, the CA and client credentials: the owner's only (keys are also 0600 each).
  ::chmod(tlsDir.c_str(), 0700);
  std::vector<std::string> sans = config_.tlsSans;
  sans.push_back(config_.bindAddress);
  if (auto st = http::ensurePki(tlsDir, sans); !st.ok()) return st;
  auto pki = http::pkiPathsIn(tlsDir);

  // The admin credential: a bearer token kept in the data dir (0600), stable across restarts.
  std::string tokenPath = config_.dataDir + "/admin.token";
  adminToken_ = readFile(tokenPath);
  while (!adminToken_.empty() && (adminToken_.back() == '\n' || adminToken_.back() == ' '))
    adminToken_.pop_back();
  if (adminToken_.empty()) {
    adminToken_ = randomHex(32);
    if (auto st = writeFile(tokenPath, adminToken_ + "\n", 0600); !st.ok()) return st;
  }

  if (auto st = Authorization::validateModes(config_.authorizationModes); !st.ok()) return st;
  state_ = std::make_unique<State>();
  crd::installCrdKind();  // before the cache is built, so CRDs get one
  state_->cache = std::make_unique<CacheSet>(*store_);
  // Before the cache starts: it observes RBAC objects, pods and PVCs.
  state_->authorization =
      std::make_unique<Authorization>(config_.authorizationModes, *state_->cache);
  state_->crds = std::make_unique<crd::Controller>(crdHooks(*state_->cache, state_->registry));
  auto* crds = state_->crds.get();
  state_->cache->addObserver(std::string(crd::kStoragePrefix),
                             [crds](const store::Event& e) { crds->onEvent(e); });
  if (config_.ensureDefaultServiceAccounts) {
    state_->defaultServiceAccounts = std::make_unique<DefaultServiceAccounts>(readFile(pki.caCert));
    state_->defaultServiceAccounts->observe(*state_->cache);
  }
  if (auto st = state_->cache->start(); !st.ok()) return st;
  auto ranges =
      service::parseRanges(config_.serviceClusterIpRange, config_.serviceNodePortRange);
  if (!ranges.ok()) return ranges.status();
  // The DNS address comes from the primary (first) range of a dual-stack pair.
  auto clusterDns = core::clusterDnsIp(
      config_.serviceClusterIpRange.substr(0, config_.serviceClusterIpRange.find(',')),
      config_.clusterDns);
  if (!clusterDns.ok()) return clusterDns.status();
  config_.clusterDns = *clusterDns;
  state_->registry = std::make_unique<Registry>(*store_, *state_->cache, *ranges);
  state_->admissionReader = std::make_unique<CacheObjectReader>(*state_->cache);
  admission::PluginDeps deps;
  deps.reader = state_->admissionReader.get();
  deps.external["NodeRestriction"] = [] { return std::make_unique<authz::NodeRestrictionPlugin>(); };
  auto* registry = state_->registry.get();
  // One plugin calls both kinds of webhooks: mutating ones in the mutating phase, validating
  // ones in the validating phase.
  // matchConditions' authorizer checks use the same authorizer as requests (chosen below).
  auto* state = state_.get();
  auto requestAuthorizer = [state]() -> const authz::Authorizer* {
    return state->authorizer ? state->authorizer.get() : state->authorization->authorizer();
  };
  deps.external["MutatingAdmissionWebhook"] = [registry, requestAuthorizer] {
    return admission::newAdmissionWebhooks(newRegistryWebhookSource(*registry, requestAuthorizer));
  };
  // Last in upstream's order (it charges the quota, so it must see the final object).
  deps.external["ResourceQuota"] = [registry] {
    return admission::newResourceQuota(newRegistryQuotaAccess(*registry));
  };
  if (auto st = admission::installBuiltinPlugins(state_->admission, deps,
                                                 config_.enableAdmissionPlugins,
                                                 config_.disableAdmissionPlugins);
      !st.ok())
    return st;
  state_->registry->setAdmission(&state_->admission);
  // RBAC's escalation check (upstream: in the RBAC storage, not an admission plugin) after them.
  if (const auto* authorizer = state_->authorization->authorizer()) {
    if (const auto* rbac = state_->authorization->rbac())
      state_->admission.add(std::make_unique<authz::EscalationPlugin>(*authorizer, *rbac));
  }
  state_->crds->start();

  http::ServerConfig hc;
  hc.bindAddress = config_.bindAddress;
  hc.port = static_cast<uint16_t>(config_.securePort);
  hc.certFile = pki.servingCert;
  hc.keyFile = pki.servingKey;
  hc.clientCaFile = pki.caCert;
  hc.maxConnections = config_.maxConnections;
  hc.handshakeTimeoutSeconds = config_.tlsHandshakeTimeoutSeconds;
  hc.idleTimeoutSeconds = config_.idleConnectionTimeoutSeconds;
  ServiceAccountTokenOptions saOptions{config_.serviceAccountIssuers, config_.apiAudiences,
                                       config_.serviceAccountSigningKeyFile,
                                       config_.serviceAccountKeyFiles};
  auto identity =
      buildIdentity(tlsDir, adminToken_, *state_->cache, state_->admission, saOptions);
  if (!identity.ok()) return identity.status();
  state_->identity = std::move(*identity);
  auto tokens = state_->identity->tokens;
  // The handler is created before the listener so no request sees a half-built server.
  std::string address = config_.bindAddress;
  state_->handler = std::make_unique<ApiHandler>(*state_->registry, *state_->cache, address);
  auto* handler = state_->handler.get();
  const authz::Authorizer* authorizer = state_->authorizer
                                            ? state_->authorizer.get()
                                            : state_->authorization->authorizer();
  handler->setAuthorizer(authorizer);
  handler->setIdentity(state_->identity->api.get(), config_.anonymousAuth);
  state_->podStreams = std::make_unique<PodStreamProxy>(*state_->registry, tlsDir);
  if (auto st = state_->podStreams->init(); !st.ok()) return st;
  handler->setPodStreamProxy(state_->podStreams.get());
  state_->observability = std::make_unique<Observability>(*store_, *state_->cache);
  auto* observability = state_->observability.get();
  observability->addExtraMetrics(config_.extraMetrics);
  http::Handler rest = [handler](http::Request& rq, http::ResponseWriter& w) {
    handler->handle(rq, w);
  };
  // /metrics is answered before the REST handler; it needs authorization as upstream's
  // (system:monitoring): anonymous requests are 403 like any other user's unless
  // --anonymous-auth=false makes them 401. Health endpoints stay open:
  // system:public-info-viewer grants them to everyone, anonymous included.
  bool anonymousAuth = config_.anonymousAuth;
  http::Handler observed = [observability, rest, authorizer, anonymousAuth](
                               http::Request& rq, http::ResponseWriter& w) {
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
  if (!config_.auditPolicyFile.empty() || !config_.auditLogPath.empty()) {
    if (config_.auditPolicyFile.empty() || config_.auditLogPath.empty())
      return core::Status::badRequest(
          "auditing needs both --audit-policy-file and --audit-log-path");
    auto policy = loadAuditPolicy(config_.auditPolicyFile);
    if (!policy.ok()) return policy.status();
    auto log = AuditLog::open({config_.auditLogPath, config_.auditLogMaxSizeMB,
                               config_.auditLogMaxBackups, config_.auditLogMaxAgeDays});
    if (!log.ok()) return log.status();
    state_->auditor = std::make_unique<Auditor>(std::move(*policy), std::move(*log));
    auto* auditor = state_->auditor.get();
    observed = [auditor, observed](http::Request& rq, http::ResponseWriter& w) {
      auditor->handle(rq, w, observed);
    };
  }
  state_->http = std::make_unique<http::Server>(hc, tokens, observed);
  if (auto st = state_->http->start(); !st.ok()) return st;
  int port = state_->http->port();
  if (auto n = migrateGoZeroValues(*store_); !n.ok()) return n.status();
  if (auto st = state_->registry->bootstrap(config_.bindAddress, port, config_.clusterDns); !st.ok()) return st;
  state_->registry->startKubernetesServiceRepair(config_.bindAddress, port);
  if (auto st = ensureBuiltinPriorityClasses(*state_->registry); !st.ok()) return st;
  if (state_->defaultServiceAccounts) state_->defaultServiceAccounts->start(*state_->registry);
  // A create holds its reservation for milliseconds before its write; a minute is ample.
  state_->registry->startServiceAddressRepair(
      std::chrono::seconds(config_.serviceRepairIntervalSeconds),
      std::chrono::seconds(std::min(60, std::max(1, config_.serviceRepairIntervalSeconds))));
  if (auto st = registerLocalApiServices(*state_->registry); !st.ok()) return st;
  if (auto st = state_->authorization->start(*state_->registry); !st.ok()) return st;
  observability->markBootstrapped();

  std::string host = config_.bindAddress;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string kubeconfig =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: berth\n"
      "  cluster:\n"
      "    server: https://" +
      host + ":" + std::to_string(port) +
      "\n"
      "    certificate-authority-data: " +
      core::base64Encode(readFile(pki.caCert)) +
      "\n"
      "users:\n"
      "- name: admin\n"
      "  user:\n"
      "    token: " +
      adminToken_ +
      "\n"
      "contexts:\n"
      "- name: berth\n"
      "  context:\n"
      "    cluster: berth\n"
      "    user: admin\n"
      "    namespace: default\n"
      "current-context: berth\n";
  kubeconfigPath_ = config_.dataDir + "/admin.kubeconfig";
  return writeFile(kubeconfigPath_, kubeconfig, 0600);
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
