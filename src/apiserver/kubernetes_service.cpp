// The `kubernetes` Service and Endpoints in `default`, through which pods reach the API server.
//
// Upstream keeps them in the API server (pkg/controlplane/controller/kubernetesservice, the
// "bootstrap controller"), not in kube-controller-manager, and Berth does the same for the same
// reason: only the API server knows the address and port it serves on (a controller manager
// running elsewhere sees only its kubeconfig's URL, which may be a proxy or 127.0.0.1), and the
// objects must exist while no controller manager runs. The loop writes through the registry's
// ordinary create path (validation, clusterIP allocation, watch events), so clients see the
// same objects a controller would make.
#include <boost/json.hpp>

#include <chrono>
#include <iostream>

#include "apiserver/registry.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {
// Upstream reconciles every 10 s (EndpointInterval); a deleted Service is back sooner here.
constexpr auto kRepairInterval = std::chrono::seconds(2);
}  // namespace

Status Registry::ensureKubernetesService(const std::string& advertiseAddress, int port) {
  WriteOptions wo;
  wo.fieldManager = "berth-apiserver";
  const auto* svcType = core::findResource("", "v1", "services");
  if (!get(*svcType, "default", "kubernetes").ok()) {
    json::object svc{
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", json::object{{"name", "kubernetes"},
                                  {"namespace", "default"},
                                  {"labels", json::object{{"component", "apiserver"},
                                                          {"provider", "kubernetes"}}}}},
        {"spec", json::object{{"type", "ClusterIP"},
                              {"clusterIP", addresses_.ranges().firstIp()},
                              {"sessionAffinity", "None"},
                              {"ports", json::array{json::object{{"name", "https"},
                                                                 {"port", 443},
                                                                 {"protocol", "TCP"},
                                                                 {"targetPort", port}}}}}}};
    auto r = create(*svcType, "default", std::move(svc), wo);
    if (!r.ok() && !r.status().isAlreadyExists()) return r.status();
  }
  // Only a missing Endpoints is recreated: with several servers each would otherwise rewrite
  // it with its own address (upstream's lease reconciler merges them; not done here yet).
  const auto* epType = core::findResource("", "v1", "endpoints");
  if (!get(*epType, "default", "kubernetes").ok()) {
    json::object ep{
        {"apiVersion", "v1"},
        {"kind", "Endpoints"},
        {"metadata",
         json::object{
             {"name", "kubernetes"},
             {"namespace", "default"},
             {"labels", json::object{{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
        {"subsets", json::array{json::object{
                        {"addresses", json::array{json::object{{"ip", advertiseAddress}}}},
                        {"ports", json::array{json::object{
                                      {"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}}}};
    auto e = create(*epType, "default", std::move(ep), wo);
    if (!e.ok() && !e.status().isAlreadyExists()) return e.status();
  }
  // The EndpointSlice proxies read (upstream's EndpointsAdapter writes it beside the
  // Endpoints): named as the Service, labelled with it, and without a managed-by label, so the
  // EndpointSlice controller leaves it alone.
  const auto* sliceType = core::findResource("discovery.k8s.io", "v1", "endpointslices");
  if (!get(*sliceType, "default", "kubernetes").ok()) {
    json::object slice{
        {"apiVersion", "discovery.k8s.io/v1"},
        {"kind", "EndpointSlice"},
        {"metadata", json::object{{"name", "kubernetes"},
                                  {"namespace", "default"},
                                  {"labels", json::object{{"kubernetes.io/service-name",
                                                           "kubernetes"}}}}},
        // The advertise address's family (an IPv6-primary cluster's API server advertises an
        // IPv6 address, as upstream requires for its IPv6 `kubernetes` ClusterIP).
        {"addressType", service::ipFamilyOf(advertiseAddress) == "IPv6" ? "IPv6" : "IPv4"},
        {"endpoints",
         json::array{json::object{{"addresses", json::array{json::string(advertiseAddress)}},
                                  {"conditions", json::object{{"ready", true}}}}}},
        {"ports", json::array{json::object{
                      {"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}};
    auto e = create(*sliceType, "default", std::move(slice), wo);
    if (!e.ok() && !e.status().isAlreadyExists()) return e.status();
  }
  return {};
}

void Registry::startKubernetesServiceRepair(const std::string& advertiseAddress, int port) {
  std::lock_guard lock(bgMu_);
  if (stopping_) return;
  background_.emplace_back([this, advertiseAddress, port] {
    std::unique_lock l(bgMu_);
    while (!bgCv_.wait_for(l, kRepairInterval, [&] { return stopping_; })) {
      l.unlock();
      (void)ensureKubernetesService(advertiseAddress, port);  // retried on the next tick
      l.lock();
    }
  });
}

void Registry::startServiceAddressRepair(std::chrono::seconds interval,
                                         std::chrono::seconds leakGrace) {
  std::lock_guard lock(bgMu_);
  if (stopping_ || interval.count() <= 0) return;
  background_.emplace_back([this, interval, leakGrace] {
    std::unique_lock l(bgMu_);
    while (!bgCv_.wait_for(l, interval, [&] { return stopping_; })) {
      l.unlock();
      if (auto st = addresses_.repair(leakGrace); !st.ok())  // retried on the next tick
        std::cerr << "berth: service address repair: " << st.message() << "\n";
      l.lock();
    }
  });
}

}  // namespace berth::apiserver
