// The cost of one authorization decision, next to the cost of the request it guards: the RBAC
// authorizer over the bootstrap policy plus N namespaces each with a RoleBinding to `edit`
// (aggregated rules inlined), asked about a GET and a create by one of the bound users; and
// RequestInfo parsing of the request path.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "apiserver/authz/request_info.h"

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

}  // namespace

BENCHMARK_MAIN();
