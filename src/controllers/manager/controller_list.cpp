#include "controllers/manager/controller_list.h"

// One include and one entry per controller (keep both lists sorted by name).

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
  };
  return list;
}

}  // namespace berth::controllers
