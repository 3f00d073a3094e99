// The cost of one authorization decision, next to the cost of the request it guards: the RBAC
// authorizer over the bootstrap policy plus N namespaces each with a RoleBinding to `edit`
// (aggregated rules inlined), asked about a GET and a create by one of the bound users;
// RequestInfo parsing of the request path; a ServiceAccount token's authentication with and
// without the verified-token cache; and the admission chain alone (the default plugins as
// `berth server` installs them, over a registry on the memory store) on the objects
// bench/rbac_throughput.py creates.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/resource_quota.h"
#include "apiserver/admission_reader.h"
#include "apiserver/authn/jwt.h"
#include "apiserver/authn/service_account_token.h"
#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "apiserver/authz/node_restriction.h"
#include "apiserver/authz/request_info.h"
#include "apiserver/quota_access.h"
#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"
#include "apiserver/webhook_source.h"
#include "store/memory/memory_store.h"

namespace {
using namespace berth::apiserver::authz;
using Kind = PolicySource::Kind;

void loadPolicy(StaticPolicySource& src, int namespaces) {
  const auto& p = bootstrapPolicy();
  for (const auto& o : p.clusterRoles) {
    boost::json::object role = o;
    // `edit` as aggregation leaves it: the rules of system:aggregate-to-edit and -view.
    if (role["metadata"].as_object()["name"] == "edit") {
      boost::json::array rules;
      for (const auto& src2 : p.clusterRoles) {
        auto name = src2.at("metadata").at("name").as_string();
        if (name == "system:aggregate-to-edit" || name == "system:aggregate-to-view")
          for (const auto& r : src2.at("rules").as_array()) rules.push_back(r);
      }
      role["rules"] = std::move(rules);
    }
    src.add(Kind::kClusterRole, boost::json::serialize(role));
  }
  for (const auto& o : p.clusterRoleBindings) src.add(Kind::kClusterRoleBinding, boost::json::serialize(o));
  for (int i = 0; i < namespaces; ++i) {
    std::string ns = "ns" + std::to_string(i);
    src.add(Kind::kRoleBinding,
            R"({"metadata":{"name":"edit","namespace":")" + ns +
                R"("},"roleRef":{"kind":"ClusterRole","name":"edit"},"subjects":[{"kind":"User","name":"user)" +
                std::to_string(i) + R"("}]})");
  }
}

void BM_RbacAuthorize(benchmark::State& state, const char* method, const char* path) {
  StaticPolicySource src;
  loadPolicy(src, static_cast<int>(state.range(0)));
  RbacAuthorizer rbac(src);
  Attributes a = requestAttributes(method, path, {});
  a.user.name = "user7";
  a.user.groups = {"devs", "system:authenticated"};
  if (!rbac.authorize(a).allowed()) state.SkipWithError("not allowed");
  for (auto _ : state) benchmark::DoNotOptimize(rbac.authorize(a));
}
BENCHMARK_CAPTURE(BM_RbacAuthorize, get_configmap, "GET", "/api/v1/namespaces/ns7/configmaps/c")
    ->Arg(10)->Arg(1000);
BENCHMARK_CAPTURE(BM_RbacAuthorize, create_deployment, "POST",
                  "/apis/apps/v1/namespaces/ns7/deployments")
    ->Arg(10)->Arg(1000);

void BM_RequestInfo(benchmark::State& state) {
  std::multimap<std::string, std::string> q = {{"watch", "true"}};
  for (auto _ : state)
    benchmark::DoNotOptimize(requestAttributes("GET", "/api/v1/namespaces/ns7/pods", q));
}
BENCHMARK(BM_RequestInfo);

// A bound ServiceAccount token (ES256, the generated key's algorithm) authenticated as a request
// does: arg 0 = the signature verified every time (verifyJwt, what each request paid before the
// cache), 1 = ServiceAccountTokens::authenticate with the cache warm (claim and object checks
// still run).
void BM_TokenAuthenticate(benchmark::State& state) {
  namespace authn = berth::apiserver::authn;
  auto keys = *authn::KeySet::fromPem(authn::KeySet::generatePem("EC"));
  boost::json::object sa = boost::json::parse(
      R"({"metadata":{"name":"default","namespace":"bench","uid":"sa-uid"}})").as_object();
  authn::ServiceAccountTokens tokens(
      keys, [&](std::string_view, const std::string&, const std::string&) {
        return std::optional<boost::json::object>(sa);
      });
  authn::BoundToken spec;
  spec.ns = "bench";
  spec.serviceAccount = {"default", "sa-uid"};
  spec.audiences = {std::string(authn::kDefaultIssuer)};
  std::string token = *tokens.issue(spec);
  bool cached = state.range(0) != 0;
  if (!tokens.authenticate(token).ok()) state.SkipWithError("token does not authenticate");
  for (auto _ : state) {
    if (cached) {
      benchmark::DoNotOptimize(tokens.authenticate(token));
    } else {
      benchmark::DoNotOptimize(authn::verifyJwt(*keys, token));
    }
  }
}
BENCHMARK(BM_TokenAuthenticate)->Arg(0)->Arg(1)->ArgName("cached");

namespace api = berth::apiserver;

constexpr const char* kBarePod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"bench",)"
    R"("labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}})";
constexpr const char* kConfigMap =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"bench"},)"
    R"("data":{"k":"v"}})";

// The admission chain alone, create of arg 0 = the bare pod, 1 = a small ConfigMap: admit and
// validate, each iteration on a fresh copy of the object (the copy is in the time; it is what
// BM_CopyOnly measures).
struct AdmissionServer {
  AdmissionServer() {
    (void)cache.start();
    (void)registry.bootstrap("127.0.0.1", 6443);
    api::WriteOptions wo;
    wo.fieldManager = "bench";
    auto type = [](const char* plural) { return *berth::core::findResource("", "v1", plural); };
    (void)registry.create(type("namespaces"), "",
                          boost::json::parse(R"({"metadata":{"name":"bench"}})").as_object(), wo);
    (void)registry.create(type("serviceaccounts"), "bench",
                          boost::json::parse(R"({"metadata":{"name":"default"}})").as_object(),
                          wo);
    (void)cache.waitUntilFresh(std::chrono::seconds(5));
    berth::apiserver::admission::PluginDeps deps;
    deps.reader = &reader;
    deps.external["NodeRestriction"] = [] { return std::make_unique<NodeRestrictionPlugin>(); };
    deps.external["MutatingAdmissionWebhook"] = [this] {
      return berth::apiserver::admission::newAdmissionWebhooks(
          api::newRegistryWebhookSource(registry));
    };
    deps.external["ResourceQuota"] = [this] {
      return berth::apiserver::admission::newResourceQuota(api::newRegistryQuotaAccess(registry));
    };
    (void)berth::apiserver::admission::installBuiltinPlugins(chain, deps, {}, {});
  }
  ~AdmissionServer() {
    registry.stop();
    cache.stop();
  }
  berth::store::MemoryStore store;
  api::CacheSet cache{store};
  api::Registry registry{store, cache};
  api::CacheObjectReader reader{cache};
  berth::apiserver::admission::Chain chain;
};

void BM_AdmissionChain(benchmark::State& state) {
  namespace adm = berth::apiserver::admission;
  AdmissionServer server;
  bool pod = state.range(0) == 0;
  boost::json::object proto = boost::json::parse(pod ? kBarePod : kConfigMap).as_object();
  adm::Attributes a;
  a.resource = berth::core::findResource("", "v1", pod ? "pods" : "configmaps");
  a.ns = "bench";
  a.name = pod ? "p" : "c";
  a.user = {"admin", {"system:masters", "system:authenticated"}, "", {}};
  for (auto _ : state) {
    boost::json::object obj = proto;
    a.object = &obj;
    auto st = server.chain.admit(a);
    if (st.ok()) st = server.chain.validate(a);
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(obj);
  }
}
BENCHMARK(BM_AdmissionChain)->Arg(0)->Arg(1)->ArgName("configmap");

void BM_CopyOnly(benchmark::State& state) {
  boost::json::object proto =
      boost::json::parse(state.range(0) == 0 ? kBarePod : kConfigMap).as_object();
  for (auto _ : state) {
    boost::json::object obj = proto;
    benchmark::DoNotOptimize(obj);
  }
}
BENCHMARK(BM_CopyOnly)->Arg(0)->Arg(1)->ArgName("configmap");

}  // namespace

BENCHMARK_MAIN();
