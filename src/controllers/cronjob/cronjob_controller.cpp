#include "controllers/cronjob/cronjob_controller.h"

#include <algorithm>

#include "client/event_recorder.h"
#include "controllers/cronjob/cron_schedule.h"
#include "controllers/cronjob/cronjob_logic.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace cronjob;

const client::Resource kCronJobs{"batch", "v1", "cronjobs", true};
const client::Resource kJobs{"batch", "v1", "jobs", true};

std::string finishedCondition(const json::value& job) {
  const json::value* conds = statusOf(job).if_contains("conditions");
  if (!conds || !conds->is_array()) return {};
  for (const json::value& c : conds->get_array()) {
    if (!c.is_object() || strAt(c.get_object(), "status") != "True") continue;
    std::string type = strAt(c.get_object(), "type");
    if (type == "Complete" || type == "Failed") return type;
  }
  return {};
}

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string timeText(std::int64_t t) { return formatTime(SystemTime(std::chrono::seconds(t))); }

class CronJobController : public Controller {
 public:
  explicit CronJobController(ControllerContext& ctx)
      : client_(ctx.client),
        cronInformer_(ctx.informers.forResource(kCronJobs)),
        jobInformer_(ctx.informers.forResource(kJobs)),
        recorder_(ctx.client, "cronjob-controller"),
        workers_("cronjob", ctx.metrics, [this](const std::string& k) { return sync(k); }),
        workerCount_(ctx.workers) {
    addControllerUidIndex(jobInformer_);
    auto enqueue = [this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
    cronInformer_.addEventHandler(client::onEveryChange(enqueue));
    auto jobEvent = [this](const json::value& j) {
      const json::object* ref = controllerRefOf(j);
      if (ref && strAt(*ref, "kind") == "CronJob" && strAt(*ref, "apiVersion") == "batch/v1") {
        workers_.enqueue(strAt(metaOf(j), "namespace") + "/" + strAt(*ref, "name"));
      }
    };
    jobInformer_.addEventHandler(
        {[jobEvent](const ObjectPtr& j) { jobEvent(*j); },
         [jobEvent](const ObjectPtr&, const ObjectPtr& j) { jobEvent(*j); },
         [jobEvent](const client::DeletedObject& d) { jobEvent(*d.object); }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  core::Status sync(const std::string& key);
  // Reconciles status.active and lastSuccessfulTime with the jobs; true when status changed.
  bool trackJobs(json::object& status, const json::value& cj, const std::vector<ObjectPtr>& jobs);
  // Schedules the due run, if any; true when status changed.
  bool schedule(json::object& status, const json::value& cj, const std::string& key,
                const std::vector<ObjectPtr>& jobs, core::Status& err);
  void cleanupHistory(const json::value& cj, const std::vector<ObjectPtr>& jobs);
  core::Status deleteJob(const json::value& cj, const std::string& name);

  client::RestClient& client_;
  client::SharedInformer& cronInformer_;
  client::SharedInformer& jobInformer_;
  client::EventRecorder recorder_;
  QueueWorkers workers_;
  int workerCount_;
};

core::Status CronJobController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  ObjectPtr cjPtr = cronInformer_.lister().get(ns, name);
  if (!cjPtr) return core::Status();
  const json::value& cj = *cjPtr;
  std::vector<ObjectPtr> jobs = controlledBy(jobInformer_, uidOf(cj));
  json::value updated = cj;
  json::value& slot = updated.as_object()["status"];
  if (!slot.is_object()) slot = json::object();
  json::object& status = slot.as_object();
  bool changed = trackJobs(status, cj, jobs);
  core::Status err;
  if (!isBeingDeleted(cj)) {
    changed |= schedule(status, cj, key, jobs, err);
    cleanupHistory(cj, jobs);
  }
  if (changed) {
    auto r = client_.updateStatus(kCronJobs, ns, updated);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
  }
  return err;
}

bool CronJobController::trackJobs(json::object& status, const json::value& cj,
                                  const std::vector<ObjectPtr>& jobs) {
  bool changed = false;
  json::value& activeSlot = status["active"];
  if (!activeSlot.is_array()) activeSlot = json::array();
  json::array& active = activeSlot.as_array();
  auto inActive = [&](const std::string& uid) {
    return std::any_of(active.begin(), active.end(), [&](const json::value& r) {
      return r.is_object() && strAt(r.get_object(), "uid") == uid;
    });
  };
  std::set<std::string> present;
  for (const ObjectPtr& j : jobs) {
    std::string uid = uidOf(*j);
    present.insert(uid);
    std::string done = finishedCondition(*j);
    bool found = inActive(uid);
    if (!found && done.empty()) {
      recorder_.record(
          cj, "Warning", "UnexpectedJob",
          "Saw a job that the controller did not create or forgot: " + strAt(metaOf(*j), "name"));
    } else if (found && !done.empty()) {
      active.erase(std::remove_if(active.begin(), active.end(),
                                  [&](const json::value& r) {
                                    return r.is_object() && strAt(r.get_object(), "uid") == uid;
                                  }),
                   active.end());
      recorder_.record(cj, "Normal", "SawCompletedJob",
                       "Saw completed job: " + strAt(metaOf(*j), "name") + ", condition: " + done);
      changed = true;
    }
    if (done == "Complete") {
      std::string completed = strAt(statusOf(*j), "completionTime");
      auto have = parseTime(strAt(status, "lastSuccessfulTime"));
      auto got = parseTime(completed);
      if (got && (!have || *got > *have)) {
        status["lastSuccessfulTime"] = completed;
        changed = true;
      }
    }
  }
  // Active references to jobs that are gone (the informer is authoritative once synced).
  size_t before = active.size();
  auto gone = std::remove_if(active.begin(), active.end(), [&](const json::value& r) {
    if (!r.is_object() || present.count(strAt(r.get_object(), "uid"))) return false;
    auto got =
        client_.get(kJobs, strAt(r.get_object(), "namespace"), strAt(r.get_object(), "name"));
    if (!got.ok() && got.status().isNotFound()) {
      recorder_.record(cj, "Normal", "MissingJob",
                       "Active job went missing: " + strAt(r.get_object(), "name"));
      return true;
    }
    return false;
  });
  active.erase(gone, active.end());
  changed |= active.size() != before;
  if (active.empty()) status.erase("active");  // omitempty
  return changed;
}

bool CronJobController::schedule(json::object& status, const json::value& cj,
                                 const std::string& key, const std::vector<ObjectPtr>& jobs,
                                 core::Status& err) {
  const json::object& spec = specOf(cj);
  core::tz::Location zone = core::tz::Location::utc();
  if (std::string tz = strAt(spec, "timeZone"); !tz.empty()) {
    auto z = core::tz::Location::load(tz);
    if (!z.ok()) {
      recorder_.record(cj, "Warning", "UnknownTimeZone",
                       "invalid timeZone: \"" + tz + "\": " + z.status().message());
      return false;
    }
    zone = std::move(z).value();
  } else if (auto local = core::tz::Location::load("Local"); local.ok()) {
    zone = std::move(local).value();  // upstream: the controller's local time zone
  }
  if (boolAt(spec, "suspend").value_or(false)) return false;
  std::string scheduleText = strAt(spec, "schedule");
  auto sched = CronSchedule::parse(scheduleText, zone);
  if (!sched.ok()) {
    recorder_.record(
        cj, "Warning", "UnparseableSchedule",
        "unparseable schedule: \"" + scheduleText + "\" : " + sched.status().message());
    return false;
  }
  if (sched->zoneFromSpec() && !strAt(spec, "timeZone").empty()) {
    recorder_.record(cj, "Warning", "UnsupportedSchedule",
                     "CRON_TZ or TZ used in schedule \"" + scheduleText +
                         "\" is not officially supported, see "
                         "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ "
                         "for more details");
  }
  std::int64_t now = unixNow();
  auto requeue = [&] {
    workers_.queue().addAfter(key, std::chrono::seconds(secondsUntilNext(cj, now, *sched)));
  };
  Due due = mostRecentScheduleTime(cj, now, *sched, true);
  if (!due.error.ok()) {
    recorder_.record(cj, "Warning", "InvalidSchedule",
                     "invalid schedule: " + scheduleText + " : " + due.error.message());
    return false;
  }
  if (due.missed > 100) {
    recorder_.record(cj, "Warning", "TooManyMissedTimes",
                     "too many missed start times: " + std::to_string(due.missed) +
                         ". Set or decrease .spec.startingDeadlineSeconds or check clock skew");
  }
  if (!due.mostRecent) {
    requeue();
    return false;
  }
  std::int64_t scheduled = *due.mostRecent;
  if (auto deadline = intAt(spec, "startingDeadlineSeconds");
      deadline && scheduled + *deadline < now) {
    recorder_.record(cj, "Warning", "MissSchedule",
                     "Missed scheduled time to start a job: " + timeText(scheduled));
    requeue();
    return false;
  }
  std::string name = jobName(strAt(metaOf(cj), "name"), scheduled);
  const json::value* active = status.if_contains("active");
  bool alreadyActive = active && active->is_array() &&
                       std::any_of(active->get_array().begin(), active->get_array().end(),
                                   [&](const json::value& r) {
                                     return r.is_object() && strAt(r.get_object(), "name") == name;
                                   });
  if (alreadyActive || strAt(status, "lastScheduleTime") == timeText(scheduled)) {
    requeue();
    return false;
  }
  std::string policy = strAt(spec, "concurrencyPolicy");
  bool anyActive = active && active->is_array() && !active->get_array().empty();
  if (policy == "Forbid" && anyActive) {
    recorder_.record(cj, "Normal", "JobAlreadyActive",
                     "Not starting job because prior execution is running and concurrency policy "
                     "is Forbid");
    requeue();
    return false;
  }
  bool changed = false;
  if (policy == "Replace" && anyActive) {
    json::array remaining;
    for (const json::value& r : active->get_array()) {
      if (deleteJob(cj, strAt(r.as_object(), "name")).ok()) {
        changed = true;
      } else {
        remaining.push_back(r);
      }
    }
    status["active"] = std::move(remaining);
  }
  auto created =
      client_.create(kJobs, strAt(metaOf(cj), "namespace"), jobFromTemplate(cj, scheduled, zone));
  if (!created.ok()) {
    if (!created.status().isAlreadyExists()) {
      recorder_.record(cj, "Warning", "FailedCreate",
                       "Error creating job: " + created.status().message());
    }
    err = created.status();
    return changed;
  }
  recorder_.record(cj, "Normal", "SuccessfulCreate", "Created job " + name);
  json::value& list = status["active"];
  if (!list.is_array()) list = json::array();
  const json::object& meta = metaOf(*created);
  list.as_array().push_back(json::object{{"kind", "Job"},
                                         {"namespace", strAt(meta, "namespace")},
                                         {"name", strAt(meta, "name")},
                                         {"uid", strAt(meta, "uid")},
                                         {"apiVersion", "batch/v1"},
                                         {"resourceVersion", strAt(meta, "resourceVersion")}});
  status["lastScheduleTime"] = timeText(scheduled);
  requeue();
  return true;
}

void CronJobController::cleanupHistory(const json::value& cj, const std::vector<ObjectPtr>& jobs) {
  for (const char* which : {"Complete", "Failed"}) {
    auto limit =
        intAt(specOf(cj), std::string_view(which) == "Complete" ? "successfulJobsHistoryLimit"
                                                                : "failedJobsHistoryLimit");
    if (!limit) continue;
    std::vector<ObjectPtr> finished;
    for (const ObjectPtr& j : jobs) {
      if (finishedCondition(*j) == which && !isBeingDeleted(*j)) finished.push_back(j);
    }
    if (static_cast<long long>(finished.size()) <= *limit) continue;
    // Oldest start first; jobs that never started last (upstream byJobStartTime).
    std::sort(finished.begin(), finished.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      std::string sa = strAt(statusOf(*a), "startTime"), sb = strAt(statusOf(*b), "startTime");
      if (sa.empty() != sb.empty()) return sb.empty();
      if (sa != sb) return sa < sb;
      return strAt(metaOf(*a), "name") < strAt(metaOf(*b), "name");
    });
    size_t excess = finished.size() - static_cast<size_t>(*limit);
    for (size_t i = 0; i < excess; ++i) (void)deleteJob(cj, strAt(metaOf(*finished[i]), "name"));
  }
}

core::Status CronJobController::deleteJob(const json::value& cj, const std::string& name) {
  json::value options{
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  auto r = client_.remove(kJobs, strAt(metaOf(cj), "namespace"), name, &options);
  if (!r.ok() && !r.status().isNotFound()) {
    recorder_.record(cj, "Warning", "FailedDelete",
                     "Deleted job " + name + ": " + r.status().message());
    return r.status();
  }
  recorder_.record(cj, "Normal", "SuccessfulDelete", "Deleted job " + name);
  return core::Status();
}

}  // namespace

std::unique_ptr<Controller> newCronJobController(ControllerContext& ctx) {
  return std::make_unique<CronJobController>(ctx);
}

}  // namespace berth::controllers
