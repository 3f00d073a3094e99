#include "controllers/manager/controller_list.h"

// One include and one entry per controller (keep both lists sorted by name).
#include "controllers/cronjob/cronjob_controller.h"
#include "controllers/daemonset/daemonset_controller.h"
#include "controllers/job/job_controller.h"
#include "controllers/statefulset/statefulset_controller.h"

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
      {"cronjob", true, newCronJobController},
      {"daemonset", true, newDaemonSetController},
      {"job", true, newJobController},
      {"statefulset", true, newStatefulSetController},
  };
  return list;
}

}  // namespace berth::controllers
