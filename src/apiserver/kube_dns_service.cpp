// The `kube-dns` Service in kube-system, as a kubeadm or k3s cluster has it (the lecture's
// `kubectl get svc --namespace=kube-system`): 10.96.0.10 with dns 53/UDP, dns-tcp 53/TCP and
// metrics 9153/TCP. Berth's DNS server runs inside every node agent rather than as pods, so
// the Service has no selector: each agent publishes an EndpointSlice with its own DNS address
// (kube-dns-<node>), and internalTrafficPolicy Local keeps every pod's queries on its node.
#include <boost/json.hpp>

#include "apiserver/registry.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;

Status Registry::ensureKubeDnsService() {
  const auto* svcType = core::findResource("", "v1", "services");
  if (get(*svcType, "kube-system", "kube-dns").ok()) return {};
  auto port = [](const char* name, int number, const char* protocol) {
    return json::object{
        {"name", name}, {"port", number}, {"protocol", protocol}, {"targetPort", number}};
  };
  json::object svc{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       json::object{{"name", "kube-dns"},
                    {"namespace", "kube-system"},
                    {"labels", json::object{{"k8s-app", "kube-dns"},
                                            {"kubernetes.io/cluster-service", "true"},
                                            {"kubernetes.io/name", "CoreDNS"}}},
                    {"annotations", json::object{{"prometheus.io/port", "9153"},
                                                 {"prometheus.io/scrape", "true"}}}}},
      {"spec", json::object{{"type", "ClusterIP"},
                            {"clusterIP", "10.96.0.10"},
                            {"sessionAffinity", "None"},
                            {"internalTrafficPolicy", "Local"},
                            {"ports", json::array{port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"),
                                                  port("metrics", 9153, "TCP")}}}}};
  WriteOptions wo;
  wo.fieldManager = "berth-apiserver";
  auto r = create(*svcType, "kube-system", std::move(svc), wo);
  if (!r.ok() && !r.status().isAlreadyExists()) return r.status();
  return {};
}

}  // namespace berth::apiserver
