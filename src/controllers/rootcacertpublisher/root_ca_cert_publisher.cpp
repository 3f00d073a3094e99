#include "controllers/rootcacertpublisher/root_ca_cert_publisher.h"

#include <fstream>
#include <sstream>

#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;

const client::Resource kNamespaces{"", "v1", "namespaces", false};
const client::Resource kConfigMaps{"", "v1", "configmaps", true};
constexpr const char* kDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

std::string rootCa(ControllerContext& ctx) {
  if (auto it = ctx.flags.find("root-ca-file"); it != ctx.flags.end() && !it->second.empty()) {
    std::ifstream in(it->second, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) return ss.str();
  }
  return ctx.client.config().caPem;
}

class RootCaCertPublisher : public Controller {
 public:
  explicit RootCaCertPublisher(ControllerContext& ctx)
      : client_(ctx.client),
        ca_(rootCa(ctx)),
        namespaces_(ctx.informers.forResource(kNamespaces)),
        configMaps_(ctx.informers.forResource(kConfigMaps)),
        workers_("root_ca_cert_publisher", ctx.metrics,
                 [this](const std::string& k) { return sync(k); }),
        workerCount_(std::max(1, ctx.workers / 5)) {
    auto enqueueNs = [this](const ObjectPtr& ns) {
      workers_.enqueue(stringAt(*ns, {"metadata", "name"}));
    };
    namespaces_.addEventHandler(client::onEveryChange(enqueueNs, false));
    auto enqueueCm = [this](const ObjectPtr& cm) {
      if (cm && stringAt(*cm, {"metadata", "name"}) == kRootCaConfigMapName)
        workers_.enqueue(stringAt(*cm, {"metadata", "namespace"}));
    };
    configMaps_.addEventHandler(
        {nullptr, [enqueueCm](const ObjectPtr&, const ObjectPtr& cm) { enqueueCm(cm); },
         [enqueueCm](const client::DeletedObject& d) { enqueueCm(d.object); }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  core::Status sync(const std::string& ns) {
    if (ca_.empty()) return {};
    ObjectPtr nsObj = namespaces_.lister().get("", ns);
    if (!nsObj || isBeingDeleted(*nsObj) || stringAt(*nsObj, {"status", "phase"}) == "Terminating")
      return {};
    ObjectPtr cm = configMaps_.lister().get(ns, kRootCaConfigMapName);
    if (!cm) {
      json::value obj{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata",
                       {{"name", kRootCaConfigMapName},
                        {"namespace", ns},
                        {"annotations", {{"kubernetes.io/description", kDescription}}}}},
                      {"data", {{"ca.crt", ca_}}}};
      auto r = client_.create(kConfigMaps, ns, obj);
      if (!r.ok() && !r.status().isAlreadyExists() && r.status().code() != 403 &&
          !r.status().isNotFound())
        return r.status();
      return {};
    }
    bool dataOk = stringAt(*cm, {"data", "ca.crt"}) == ca_ && valueAt(*cm, {"data"}) &&
                  valueAt(*cm, {"data"})->is_object() &&
                  valueAt(*cm, {"data"})->as_object().size() == 1;
    if (dataOk && annotation(*cm, "kubernetes.io/description") == kDescription) return {};
    json::value updated = *cm;
    auto& meta = updated.as_object()["metadata"].as_object();
    if (!meta["annotations"].is_object()) meta["annotations"] = json::object();
    meta["annotations"].as_object()["kubernetes.io/description"] = kDescription;
    updated.as_object()["data"] = json::object{{"ca.crt", ca_}};
    updated.as_object().erase("binaryData");
    auto r = client_.update(kConfigMaps, ns, updated);
    // A conflict is retried (rate-limited) against the newer copy the informer will have.
    if (!r.ok() && !r.status().isNotFound()) return r.status();
    return {};
  }

  client::RestClient& client_;
  const std::string ca_;
  client::SharedInformer& namespaces_;
  client::SharedInformer& configMaps_;
  QueueWorkers workers_;
  int workerCount_;
};

}  // namespace

std::unique_ptr<Controller> newRootCaCertPublisher(ControllerContext& ctx) {
  return std::make_unique<RootCaCertPublisher>(ctx);
}

}  // namespace berth::controllers
