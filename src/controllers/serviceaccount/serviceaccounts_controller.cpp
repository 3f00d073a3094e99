#include "controllers/serviceaccount/serviceaccounts_controller.h"

#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;

const client::Resource kNamespaces{"", "v1", "namespaces", false};
const client::Resource kServiceAccounts{"", "v1", "serviceaccounts", true};
// Upstream's DefaultServiceAccountsControllerOptions: just "default".
constexpr const char* kManaged[] = {"default"};

bool isManaged(const std::string& name) {
  for (const char* m : kManaged)
    if (name == m) return true;
  return false;
}

class ServiceAccountsController : public Controller {
 public:
  explicit ServiceAccountsController(ControllerContext& ctx)
      : client_(ctx.client),
        namespaces_(ctx.informers.forResource(kNamespaces)),
        accounts_(ctx.informers.forResource(kServiceAccounts)),
        workers_("serviceaccount", ctx.metrics, [this](const std::string& k) { return sync(k); }),
        workerCount_(std::max(1, ctx.workers / 5)) {
    auto enqueueNs = [this](const ObjectPtr& ns) {
      workers_.enqueue(stringAt(*ns, {"metadata", "name"}));
    };
    namespaces_.addEventHandler(client::onEveryChange(enqueueNs, false));
    accounts_.addEventHandler({nullptr, nullptr, [this](const client::DeletedObject& d) {
                                 if (!d.object) return;
                                 if (isManaged(stringAt(*d.object, {"metadata", "name"})))
                                   workers_.enqueue(stringAt(*d.object, {"metadata", "namespace"}));
                               }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  core::Status sync(const std::string& ns) {
    ObjectPtr nsObj = namespaces_.lister().get("", ns);
    if (!nsObj || isBeingDeleted(*nsObj) || stringAt(*nsObj, {"status", "phase"}) == "Terminating")
      return {};
    for (const char* name : kManaged) {
      if (accounts_.lister().get(ns, name)) continue;
      json::value sa{{"apiVersion", "v1"},
                     {"kind", "ServiceAccount"},
                     {"metadata", {{"name", name}, {"namespace", ns}}}};
      auto r = client_.create(kServiceAccounts, ns, sa);
      // Already there (the cache lags) or the namespace began terminating: nothing to do.
      if (!r.ok() && !r.status().isAlreadyExists() && r.status().code() != 403 &&
          !r.status().isNotFound())
        return r.status();
    }
    return {};
  }

  client::RestClient& client_;
  client::SharedInformer& namespaces_;
  client::SharedInformer& accounts_;
  QueueWorkers workers_;
  int workerCount_;
};

}  // namespace

std::unique_ptr<Controller> newServiceAccountsController(ControllerContext& ctx) {
  return std::make_unique<ServiceAccountsController>(ctx);
}

}  // namespace berth::controllers
