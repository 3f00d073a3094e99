#pragma once
// CronJobController: creates a Job for each scheduled time of a CronJob, as upstream's
// pkg/controller/cronjob (v2): cron syntax with descriptors, spec.timeZone from the system tz
// database, concurrencyPolicy Allow/Forbid/Replace, startingDeadlineSeconds, suspend, missed
// runs (only the most recent is started; more than 100 missed raise a TooManyMissedTimes
// event), jobs named "<cronjob>-<scheduled minutes since the epoch>", history limits for
// successful and failed jobs, and status active/lastScheduleTime/lastSuccessfulTime. Each
// CronJob is re-queued for its next scheduled time.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads, at
// most one per CronJob key at a time.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newCronJobController(ControllerContext& ctx);

}  // namespace berth::controllers
