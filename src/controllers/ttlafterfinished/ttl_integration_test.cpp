// TTL after finished against the real server, together with the Job controller: a job whose
// pod the test (as kubelet) lets succeed completes, then is deleted once its TTL passes; a job
// without a TTL stays.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;
using namespace controllers::testing;

const client::Resource kJobs{"batch", "v1", "jobs", true};

json::value job(const std::string& name, const std::string& ttl) {
  return json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":")" + name +
                     R"(","namespace":"default"},"spec":{)" + ttl +
                     R"("template":{"spec":{"restartPolicy":"Never",
                       "containers":[{"name":"c","image":"busybox"}]}}}})");
}

bool succeedPods(client::RestClient& c, const std::string& jobName) {
  auto pods = listPods(c, "default", "job-name=" + jobName);
  if (pods.empty()) return false;
  for (auto& p : pods) {
    if (!setPodStatus(c, p, "Succeeded", false)) return false;
  }
  return true;
}

bool completed(client::RestClient& c, const std::string& name) {
  auto j = c.get(kJobs, "default", name);
  return j.ok() && statusOf(*j).contains("completionTime");
}

TEST(TtlAfterFinishedIntegrationTest, DeletesFinishedJobsAfterTtl) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("ttl-test");
  ASSERT_TRUE(c->create(kJobs, "default", job("short", R"("ttlSecondsAfterFinished":1,)")).ok());
  ASSERT_TRUE(c->create(kJobs, "default", job("keep", "")).ok());
  ASSERT_TRUE(eventually([&] { return succeedPods(*c, "short") && succeedPods(*c, "keep"); }));
  ASSERT_TRUE(eventually([&] { return completed(*c, "keep"); }));
  // "short" completes and is deleted about a second later (it may already be gone here).
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return c->get(kJobs, "default", "short").status().isNotFound(); },
                         std::chrono::seconds(6)));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(4));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(c->get(kJobs, "default", "keep").ok());
}

}  // namespace
}  // namespace berth::controllers
