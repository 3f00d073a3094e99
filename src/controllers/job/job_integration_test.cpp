// The Job controller against the real server (run by its controller manager), the test acting
// as the kubelet: parallelism and completions, the tracking finalizer leaving counted pods,
// backoffLimit and activeDeadlineSeconds failures, suspend, the backoff limit per index.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"
#include "controllers/framework/workload_util.h"
#include "controllers/job/index_backoff.h"
#include "controllers/job/job_logic.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;
using namespace controllers::testing;

const client::Resource kJobs{"batch", "v1", "jobs", true};

json::value job(const std::string& name, const std::string& extraSpec) {
  return json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":")" + name +
                     R"(","namespace":"default"},"spec":{)" + extraSpec +
                     R"("template":{"spec":{"restartPolicy":"Never",
                       "containers":[{"name":"c","image":"busybox"}]}}}})");
}

std::vector<json::value> activePods(client::RestClient& c, const std::string& jobName) {
  std::vector<json::value> out;
  for (auto& p : listPods(c, "default", "batch.kubernetes.io/job-name=" + jobName)) {
    if (isPodActive(p)) out.push_back(p);
  }
  return out;
}

json::object jobStatus(client::RestClient& c, const std::string& name) {
  auto j = c.get(kJobs, "default", name);
  return j.ok() ? statusOf(*j) : json::object();
}

bool hasCondition(const json::object& status, const std::string& type, const std::string& reason) {
  const json::value* conds = status.if_contains("conditions");
  if (!conds || !conds->is_array()) return false;
  for (auto& cnd : conds->get_array()) {
    if (strAt(cnd.as_object(), "type") == type && strAt(cnd.as_object(), "status") == "True" &&
        strAt(cnd.as_object(), "reason") == reason) {
      return true;
    }
  }
  return false;
}

// Finishes every active pod of the job with `phase`; returns how many.
int finishAll(client::RestClient& c, const std::string& jobName, const std::string& phase) {
  int n = 0;
  for (auto& p : activePods(c, jobName)) n += setPodStatus(c, p, phase, false) ? 1 : 0;
  return n;
}

TEST(JobIntegrationTest, CompletionsParallelismAndFailures) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("job-test");

  // completions 3, parallelism 2: two pods at a time, named <job>-<random>, labelled and with
  // the tracking finalizer.
  ASSERT_TRUE(c->create(kJobs, "default", job("work", R"("completions":3,"parallelism":2,)")).ok());
  ASSERT_TRUE(eventually([&] { return activePods(*c, "work").size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto pods = activePods(*c, "work");
  ASSERT_EQ(pods.size(), 2u);
  const json::object& meta = metaOf(pods[0]);
  EXPECT_TRUE(strAt(meta, "name").starts_with("work-"));
  EXPECT_EQ(strAt(meta, "name").size(), std::string("work-").size() + 5);
  EXPECT_TRUE(job::hasFinalizer(pods[0]));
  const json::object& labels = objAt(pods[0], "metadata", "labels");
  EXPECT_EQ(strAt(labels, "job-name"), "work");
  EXPECT_EQ(strAt(labels, "batch.kubernetes.io/job-name"), "work");
  EXPECT_FALSE(strAt(labels, "controller-uid").empty());
  EXPECT_EQ(strAt(labels, "controller-uid"), strAt(labels, "batch.kubernetes.io/controller-uid"));
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "work");
    return s["active"] == 2 && s.contains("startTime") && s["ready"] == 0;
  }));

  EXPECT_EQ(finishAll(*c, "work", "Succeeded"), 2);
  // One more pod for the last completion; the two finished pods lose their finalizer.
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "work");
    return s["succeeded"] == 2 && s["active"] == 1 && activePods(*c, "work").size() == 1;
  })) << json::serialize(jobStatus(*c, "work"));
  ASSERT_TRUE(eventually([&] {
    for (auto& p : listPods(*c, "default", "job-name=work")) {
      if (podPhase(p) == "Succeeded" && job::hasFinalizer(p)) return false;
    }
    return true;
  }));
  EXPECT_EQ(finishAll(*c, "work", "Succeeded"), 1);
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "work");
    return s["succeeded"] == 3 && !s.contains("active") && s.contains("completionTime") &&
           hasCondition(s, "SuccessCriteriaMet", "CompletionsReached") &&
           hasCondition(s, "Complete", "CompletionsReached");
  })) << json::serialize(jobStatus(*c, "work"));
  EXPECT_EQ(listPods(*c, "default", "job-name=work").size(), 3u);

  // backoffLimit 0: the first failure fails the job; the other running pod is deleted and
  // counted as failed too.
  ASSERT_TRUE(c->create(kJobs, "default",
                        job("flaky", R"("parallelism":2,"completions":4,"backoffLimit":0,)"))
                  .ok());
  ASSERT_TRUE(eventually([&] { return activePods(*c, "flaky").size() == 2; }));
  ASSERT_TRUE(setPodStatus(*c, activePods(*c, "flaky")[0], "Failed", false));
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "flaky");
    return hasCondition(s, "FailureTarget", "BackoffLimitExceeded") &&
           hasCondition(s, "Failed", "BackoffLimitExceeded") && s["failed"] == 2 &&
           !s.contains("active");
  })) << json::serialize(jobStatus(*c, "flaky"));
  for (auto& p : listPods(*c, "default", "job-name=flaky")) EXPECT_FALSE(job::hasFinalizer(p));

  // activeDeadlineSeconds: the job fails on time even though nothing happens to its pod.
  ASSERT_TRUE(c->create(kJobs, "default", job("slow", R"("activeDeadlineSeconds":1,)")).ok());
  ASSERT_TRUE(
      eventually([&] { return hasCondition(jobStatus(*c, "slow"), "Failed", "DeadlineExceeded"); },
                 std::chrono::seconds(5)))
      << json::serialize(jobStatus(*c, "slow"));
  EXPECT_TRUE(activePods(*c, "slow").empty());

  // Indexed: one pod per pending index (lowest first), completedIndexes as intervals.
  ASSERT_TRUE(
      c->create(kJobs, "default",
                job("indexed", R"("completionMode":"Indexed","completions":3,"parallelism":2,)"))
          .ok());
  auto indexesOf = [&](const std::vector<json::value>& ps) {
    std::set<std::string> out;
    for (auto& p : ps) {
      out.insert(strAt(objAt(p, "metadata", "labels"), "batch.kubernetes.io/job-completion-index"));
    }
    return out;
  };
  ASSERT_TRUE(eventually([&] {
    return indexesOf(activePods(*c, "indexed")) == std::set<std::string>{"0", "1"};
  }));
  for (auto& p : activePods(*c, "indexed")) {
    EXPECT_TRUE(strAt(metaOf(p), "name")
                    .starts_with("indexed-" +
                                 strAt(objAt(p, "metadata", "labels"),
                                       "batch.kubernetes.io/job-completion-index") +
                                 "-"));
    if (strAt(objAt(p, "metadata", "labels"), "batch.kubernetes.io/job-completion-index") == "0") {
      ASSERT_TRUE(setPodStatus(*c, p, "Succeeded", false));
    }
  }
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "indexed");
    return indexesOf(activePods(*c, "indexed")) == std::set<std::string>{"1", "2"} &&
           strAt(s, "completedIndexes") == "0" && s["succeeded"] == 1;
  })) << json::serialize(jobStatus(*c, "indexed"));
  EXPECT_EQ(finishAll(*c, "indexed", "Succeeded"), 2);
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "indexed");
    return strAt(s, "completedIndexes") == "0-2" && s["succeeded"] == 3 &&
           hasCondition(s, "Complete", "CompletionsReached");
  })) << json::serialize(jobStatus(*c, "indexed"));

  // Suspend: pods go away and the Suspended condition is set; resuming brings them back.
  ASSERT_TRUE(
      c->create(kJobs, "default", job("pausable", R"("parallelism":2,"completions":2,)")).ok());
  ASSERT_TRUE(eventually([&] { return activePods(*c, "pausable").size() == 2; }));
  ASSERT_TRUE(c->patch(kJobs, "default", "pausable", client::PatchType::kMerge,
                       R"({"spec":{"suspend":true}})")
                  .ok());
  ASSERT_TRUE(eventually([&] {
    return activePods(*c, "pausable").empty() &&
           hasCondition(jobStatus(*c, "pausable"), "Suspended", "JobSuspended");
  })) << json::serialize(jobStatus(*c, "pausable"));
  EXPECT_FALSE(jobStatus(*c, "pausable").contains("failed"));  // suspending is not failing
  ASSERT_TRUE(c->patch(kJobs, "default", "pausable", client::PatchType::kMerge,
                       R"({"spec":{"suspend":false}})")
                  .ok());
  ASSERT_TRUE(eventually([&] { return activePods(*c, "pausable").size() == 2; }));
}

TEST(JobIntegrationTest, AdoptsAMatchingOrphanWithTheTrackingFinalizer) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("job-test");
  ASSERT_TRUE(c->create(kTestPods, "default", json::parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"early","labels":{"grp":"x"}},
      "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}})"))
                  .ok());
  json::value j = job("manual", R"("parallelism":2,"completions":2,"manualSelector":true,
      "selector":{"matchLabels":{"grp":"x"}},)");
  j.as_object()["spec"].as_object()["template"].as_object()["metadata"] =
      json::object{{"labels", {{"grp", "x"}}}};
  auto created = c->create(kJobs, "default", j);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto early = [&] { return c->get(kTestPods, "default", "early"); };
  ASSERT_TRUE(eventually([&] {
    auto p = early();
    const json::object* ref = p.ok() ? controllerRefOf(*p) : nullptr;
    return ref && strAt(*ref, "kind") == "Job" && job::hasFinalizer(*p);
  }));
  EXPECT_TRUE(eventually([&] { return intAt(jobStatus(*c, "manual"), "active") == 2; }))
      << json::serialize(jobStatus(*c, "manual"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // The orphan is one of the two: one pod created, not two.
  EXPECT_EQ(listPods(*c, "default", "grp=x").size(), 2u);
}

TEST(JobIntegrationTest, PodFailurePolicyIgnoresDisruptionsAndFailsOnAnExitCode) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("job-test");
  ASSERT_TRUE(c->create(kJobs, "default", job("policy", R"("backoffLimit":6,
      "podFailurePolicy":{"rules":[
        {"action":"FailJob","onExitCodes":{"containerName":"c","operator":"In","values":[42]}},
        {"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]},)"))
                  .ok());
  ASSERT_TRUE(eventually([&] { return activePods(*c, "policy").size() == 1; }));
  auto failWith = [&](const json::value& pod, const std::string& extra) {
    json::object status = json::parse(R"({"phase":"Failed",)" + extra + "}").as_object();
    return setPodStatusObject(*c, pod, std::move(status));
  };
  // Disrupted: ignored, so not counted as failed, and replaced.
  std::string first = strAt(metaOf(activePods(*c, "policy")[0]), "name");
  ASSERT_TRUE(failWith(activePods(*c, "policy")[0],
                       R"("conditions":[{"type":"DisruptionTarget","status":"True"}])"));
  ASSERT_TRUE(eventually([&] {
    auto pods = activePods(*c, "policy");
    return pods.size() == 1 && strAt(metaOf(pods[0]), "name") != first;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(intAt(jobStatus(*c, "policy"), "failed").value_or(0), 0);

  // Exit code 42 in container c: the job fails by the policy, with upstream's message.
  json::value second = activePods(*c, "policy")[0];
  std::string name = strAt(metaOf(second), "name");
  ASSERT_TRUE(failWith(second, R"("containerStatuses":[{"name":"c","ready":false,
      "restartCount":0,"image":"busybox","imageID":"","started":false,
      "state":{"terminated":{"exitCode":42,"reason":"Error"}}}])"));
  ASSERT_TRUE(eventually(
      [&] { return hasCondition(jobStatus(*c, "policy"), "Failed", "PodFailurePolicy"); }));
  std::string message = "Container c for pod default/" + name +
                        " failed with exit code 42 matching FailJob rule at index 0";
  json::object status = jobStatus(*c, "policy");
  for (auto& cnd : status.at("conditions").as_array()) {
    if (strAt(cnd.as_object(), "type") == "Failed" ||
        strAt(cnd.as_object(), "type") == "FailureTarget") {
      EXPECT_EQ(strAt(cnd.as_object(), "message"), message);
    }
  }
  EXPECT_EQ(intAt(status, "failed").value_or(0), 1);
  EXPECT_TRUE(eventually(
      [&] { return hasEvent(*c, "default", "policy", "Warning PodFailurePolicy: " + message); }));
}

// The pod of the job for `index` that is still running; null if none.
std::optional<json::value> activePodOf(client::RestClient& c, const std::string& jobName,
                                       const std::string& index) {
  for (auto& p : activePods(c, jobName)) {
    if (strAt(objAt(p, "metadata", "annotations"), job::kCompletionIndexAnnotation) == index) {
      return p;
    }
  }
  return std::nullopt;
}

std::set<std::string> activeIndexes(client::RestClient& c, const std::string& jobName) {
  std::set<std::string> out;
  for (auto& p : activePods(c, jobName)) {
    out.insert(strAt(objAt(p, "metadata", "annotations"), job::kCompletionIndexAnnotation));
  }
  return out;
}

// Fails the pod as a kubelet reports container c exiting with `exitCode`. The container
// finished a minute ago, so the index's backoff (10 s after a first failure) is already over
// and the test need not wait it out; the backoff itself is covered by index_backoff_test.
bool failPod(client::RestClient& c, const json::value& pod, int exitCode) {
  std::string finished = formatTime(std::chrono::system_clock::now() - std::chrono::minutes(1));
  json::object status = json::parse(R"({"phase":"Failed","containerStatuses":[{"name":"c",
      "ready":false,"restartCount":0,"image":"busybox","imageID":"","started":false,
      "state":{"terminated":{"exitCode":)" +
                                    std::to_string(exitCode) +
                                    R"(,"reason":"Error","finishedAt":")" + finished + R"("}}}]})")
                            .as_object();
  return setPodStatusObject(c, pod, std::move(status));
}

TEST(JobIntegrationTest, BackoffLimitPerIndexFailsIndexesNotTheWholeJob) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("job-test");
  const std::string failureCount = job::kIndexFailureCountAnnotation;

  // The server refuses a per-index limit on a NonIndexed job with upstream's 422.
  auto refused = c->create(kJobs, "default", job("plain", R"("backoffLimitPerIndex":1,)"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), 422);
  EXPECT_TRUE(refused.status().isInvalid());
  EXPECT_NE(refused.status().message().find(
                "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"),
            std::string::npos)
      << refused.status().message();

  // backoffLimitPerIndex 1: index 1 fails twice and is given up; 0 and 2 still succeed.
  ASSERT_TRUE(c->create(kJobs, "default", job("perindex", R"("completionMode":"Indexed",
      "completions":3,"parallelism":3,"backoffLimitPerIndex":1,)"))
                  .ok());
  ASSERT_TRUE(eventually([&] {
    return activeIndexes(*c, "perindex") == std::set<std::string>{"0", "1", "2"};
  }));
  auto first = activePodOf(*c, "perindex", "1");
  ASSERT_TRUE(first);
  EXPECT_EQ(strAt(objAt(*first, "metadata", "annotations"), failureCount), "0");
  EXPECT_EQ(strAt(jobStatus(*c, "perindex"), "failedIndexes"), "");
  ASSERT_TRUE(failPod(*c, *first, 1));
  // Retried once, the replacement carrying the index's failure count.
  std::optional<json::value> second;
  ASSERT_TRUE(eventually([&] {
    second = activePodOf(*c, "perindex", "1");
    return second && strAt(metaOf(*second), "name") != strAt(metaOf(*first), "name");
  })) << json::serialize(jobStatus(*c, "perindex"));
  EXPECT_EQ(strAt(objAt(*second, "metadata", "annotations"), failureCount), "1");
  // The failed pod kept its finalizer until replaced; now it is counted and released.
  ASSERT_TRUE(eventually([&] {
    auto p = c->get(kTestPods, "default", strAt(metaOf(*first), "name"));
    return p.ok() && !job::hasFinalizer(*p);
  }));
  ASSERT_TRUE(eventually([&] { return jobStatus(*c, "perindex")["failed"] == 1; }));
  ASSERT_TRUE(failPod(*c, *second, 1));
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "perindex");
    return strAt(s, "failedIndexes") == "1" && s["failed"] == 2;
  })) << json::serialize(jobStatus(*c, "perindex"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(activeIndexes(*c, "perindex"), (std::set<std::string>{"0", "2"}));  // not retried
  EXPECT_FALSE(hasCondition(jobStatus(*c, "perindex"), "FailureTarget", "FailedIndexes"));
  EXPECT_EQ(finishAll(*c, "perindex", "Succeeded"), 2);
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "perindex");
    return hasCondition(s, "FailureTarget", "FailedIndexes") &&
           hasCondition(s, "Failed", "FailedIndexes") && strAt(s, "completedIndexes") == "0,2" &&
           strAt(s, "failedIndexes") == "1" && s["succeeded"] == 2 && s["failed"] == 2;
  })) << json::serialize(jobStatus(*c, "perindex"));
  EXPECT_FALSE(hasCondition(jobStatus(*c, "perindex"), "Complete", "CompletionsReached"));
  EXPECT_EQ(listPods(*c, "default", "job-name=perindex").size(), 4u);

  // A FailIndex rule fails an index at its first failure, however high the limit; past
  // maxFailedIndexes the job fails and its remaining pods go.
  ASSERT_TRUE(c->create(kJobs, "default", job("failindex", R"("completionMode":"Indexed",
      "completions":3,"parallelism":3,"backoffLimitPerIndex":5,"maxFailedIndexes":1,
      "podFailurePolicy":{"rules":[
        {"action":"FailIndex","onExitCodes":{"containerName":"c","operator":"In","values":[42]}}]},)"))
                  .ok());
  ASSERT_TRUE(eventually([&] {
    return activeIndexes(*c, "failindex") == std::set<std::string>{"0", "1", "2"};
  }));
  ASSERT_TRUE(failPod(*c, *activePodOf(*c, "failindex", "0"), 42));
  ASSERT_TRUE(eventually([&] { return strAt(jobStatus(*c, "failindex"), "failedIndexes") == "0"; }))
      << json::serialize(jobStatus(*c, "failindex"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(activeIndexes(*c, "failindex"), (std::set<std::string>{"1", "2"}));
  EXPECT_FALSE(hasCondition(jobStatus(*c, "failindex"), "Failed", "MaxFailedIndexesExceeded"));
  ASSERT_TRUE(failPod(*c, *activePodOf(*c, "failindex", "2"), 42));
  ASSERT_TRUE(eventually([&] {
    auto s = jobStatus(*c, "failindex");
    return hasCondition(s, "Failed", "MaxFailedIndexesExceeded") &&
           strAt(s, "failedIndexes") == "0,2" && activePods(*c, "failindex").empty();
  })) << json::serialize(jobStatus(*c, "failindex"));
}

}  // namespace
}  // namespace berth::controllers
