#include "controllers/manager/controller_list.h"

#include "controllers/disruption/disruption_controller.h"
#include "controllers/garbagecollector/garbage_collector.h"
#include "controllers/namespace/namespace_controller.h"

// One include and one entry per controller (keep both lists sorted by name).

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
      {"disruption", true,
       [](ControllerContext& ctx) { return std::make_unique<DisruptionController>(ctx); }},
      {"garbagecollector", true,
       [](ControllerContext& ctx) { return std::make_unique<GarbageCollector>(ctx); }},
      {"namespace", true,
       [](ControllerContext& ctx) { return std::make_unique<NamespaceController>(ctx); }},
  };
  return list;
}

}  // namespace berth::controllers
