#include "controllers/manager/controller_list.h"

#include "controllers/nodeipam/nodeipam_controller.h"

// One include and one entry per controller (keep both lists sorted by name).

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
      {"nodeipam", true,
       [](ControllerContext& ctx) -> std::unique_ptr<Controller> {
         return nodeipam::NodeIpamController::createOrDie(ctx);
       }},
  };
  return list;
}

}  // namespace berth::controllers
