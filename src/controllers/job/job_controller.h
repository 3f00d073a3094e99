#pragma once
// JobController: runs a Job's pods to completion, as upstream's pkg/controller/job (1.32):
// parallelism and completions (NonIndexed), backoffLimit with upstream's pod-failure backoff
// (10 s doubling to 6 min), activeDeadlineSeconds, suspend, podReplacementPolicy; pods named
// "<job>-<random>" from the template (whose controller-uid/job-name labels the API server
// added) with the batch.kubernetes.io/job-tracking finalizer, removed once the pod is counted;
// status active/ready/terminating/succeeded/failed/startTime/completionTime and the conditions
// FailureTarget→Failed and SuccessCriteriaMet→Complete.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads, at
// most one per Job key at a time.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newJobController(ControllerContext& ctx);

}  // namespace berth::controllers
