#pragma once
// The list of controllers this build has: one line per controller in controller_list.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controllers/framework/controller.h"

namespace berth::controllers {

struct ControllerEntry {
  std::string name;            // upstream's --controllers name ("replicaset", "deployment", ...)
  bool enabledByDefault = true;
  std::function<std::unique_ptr<Controller>(ControllerContext&)> create;
};

const std::vector<ControllerEntry>& controllerList();

}  // namespace berth::controllers
