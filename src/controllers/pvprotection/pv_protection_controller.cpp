#include "controllers/pvprotection/pv_protection_controller.h"

#include "controllers/framework/finalizer_util.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers {

namespace json = boost::json;

bool volumeInUse(const json::value& volume) {
  return stringAt(volume, {"status", "phase"}) == "Bound" &&
         !stringAt(volume, {"spec", "claimRef", "name"}).empty();
}

namespace {

using client::ObjectPtr;

const client::Resource kVolumes{"", "v1", "persistentvolumes", false};

class PvProtectionController : public Controller {
 public:
  explicit PvProtectionController(ControllerContext& ctx)
      : client_(ctx.client),
        volumes_(ctx.informers.forResource(kVolumes)),
        workers_("pvprotection", ctx.metrics, [this](const std::string& k) { return sync(k); }) {
    auto changed = [this](const ObjectPtr& v) {
      if (needToAddFinalizer(*v, kPvProtectionFinalizer) ||
          isDeletionCandidate(*v, kPvProtectionFinalizer))
        workers_.enqueue(keyOf(*v));
    };
    volumes_.addEventHandler(client::onEveryChange(changed, false));
  }

  void run() override { workers_.start(1); }
  void stop() override { workers_.stop(); }

 private:
  core::Status sync(const std::string& name) {
    ObjectPtr volume = volumes_.lister().get("", name);
    if (!volume) return {};
    if (isDeletionCandidate(*volume, kPvProtectionFinalizer) && !volumeInUse(*volume))
      return update(withoutFinalizer(*volume, kPvProtectionFinalizer));
    if (needToAddFinalizer(*volume, kPvProtectionFinalizer))
      return update(withFinalizer(*volume, kPvProtectionFinalizer));
    return {};
  }

  core::Status update(const json::value& volume) {
    auto r = client_.update(kVolumes, "", volume);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
    return {};
  }

  client::RestClient& client_;
  client::SharedInformer& volumes_;
  QueueWorkers workers_;
};

}  // namespace

std::unique_ptr<Controller> newPvProtectionController(ControllerContext& ctx) {
  return std::make_unique<PvProtectionController>(ctx);
}

}  // namespace berth::controllers
