#pragma once
// TtlAfterFinishedController: deletes a finished Job (Complete or Failed) once
// spec.ttlSecondsAfterFinished has passed since it finished (the condition's
// lastTransitionTime), as upstream's pkg/controller/ttlafterfinished: jobs not yet due are
// re-queued for their expiry; before deleting, the Job is read fresh from the API so a TTL
// changed meanwhile is honoured; the delete carries a UID precondition. Deletion propagates in
// the Background (upstream uses Foreground, which needs the garbage collector to finish a
// deletion; Background deletes the Job at once and leaves its pods to the collector).
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newTtlAfterFinishedController(ControllerContext& ctx);

}  // namespace berth::controllers
