// Health endpoints: upstream's text, status codes, verbose and exclude, per-check paths.
#include "apiserver/health/health.h"

#include <gtest/gtest.h>

#include <atomic>

#include "apiserver/http/fake_writer.h"

namespace berth::apiserver::health {
namespace {

using http::testing::FakeWriter;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    checks_.add("ping", [] { return core::Status(); }, {"livez", "readyz", "healthz"});
    checks_.add(
        "etcd",
        [this] { return etcdUp_ ? core::Status() : core::Status::unavailable("store down"); },
        {"livez", "readyz", "healthz"});
    checks_.add("poststarthook/bootstrap-controller", [] { return core::Status(); },
                {"livez", "readyz", "healthz"});
    checks_.add("shutdown", [] { return core::Status(); }, {"readyz"});
  }

  FakeWriter get(const std::string& path, std::multimap<std::string, std::string> query = {}) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.query = std::move(query);
    FakeWriter writer;
    served_ = checks_.serve(request, writer);
    return writer;
  }

  Checks checks_;
  std::atomic<bool> etcdUp_{true};
  bool served_ = false;
};

TEST_F(HealthTest, PlainAnswerIsOk) {
  auto w = get("/livez");
  EXPECT_TRUE(served_);
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.body, "ok");
  EXPECT_EQ(w.contentType, "text/plain; charset=utf-8");
  EXPECT_EQ(w.header("X-Content-Type-Options"), "nosniff");
}

TEST_F(HealthTest, VerboseListsEveryCheckInOrder) {
  auto w = get("/readyz", {{"verbose", ""}});
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.body,
            "[+]ping ok\n[+]etcd ok\n[+]poststarthook/bootstrap-controller ok\n[+]shutdown ok\n"
            "readyz check passed\n");
  // livez has no shutdown check
  EXPECT_EQ(get("/livez", {{"verbose", "1"}}).body.find("shutdown"), std::string::npos);
}

TEST_F(HealthTest, FailingCheckIs500WithReasonWithheld) {
  etcdUp_ = false;
  auto w = get("/healthz");
  EXPECT_EQ(w.status, 500);
  EXPECT_EQ(w.body,
            "[+]ping ok\n[-]etcd failed: reason withheld\n"
            "[+]poststarthook/bootstrap-controller ok\nhealthz check failed\n");
  EXPECT_EQ(w.body.find("store down"), std::string::npos);
  // The check's own path tells why.
  auto own = get("/healthz/etcd");
  EXPECT_EQ(own.status, 500);
  EXPECT_EQ(own.body, "internal server error: store down\n");
}

TEST_F(HealthTest, ExcludedCheckDoesNotFailTheEndpoint) {
  etcdUp_ = false;
  auto w = get("/livez", {{"exclude", "etcd"}, {"verbose", ""}});
  EXPECT_EQ(w.status, 200);
  EXPECT_NE(w.body.find("[+]etcd excluded: ok\n"), std::string::npos) << w.body;
  EXPECT_EQ(get("/livez", {{"exclude", "etcd"}}).body, "ok");
}

TEST_F(HealthTest, ExcludingAnUnknownCheckWarns) {
  auto w = get("/livez", {{"exclude", "nope"}, {"exclude", "ping"}, {"verbose", ""}});
  EXPECT_EQ(w.status, 200);
  EXPECT_NE(w.body.find("[+]ping excluded: ok\n"), std::string::npos);
  EXPECT_NE(w.body.find("warn: some health checks cannot be excluded: no matches for \"nope\"\n"),
            std::string::npos)
      << w.body;
}

TEST_F(HealthTest, IndividualChecksAndUnknownOnes) {
  auto ping = get("/livez/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "ok");
  EXPECT_EQ(get("/readyz/poststarthook/bootstrap-controller").status, 200);
  EXPECT_EQ(get("/readyz/shutdown").status, 200);
  auto unknown = get("/livez/shutdown");  // a readyz-only check
  EXPECT_TRUE(served_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("\"reason\":\"NotFound\""), std::string::npos);
  EXPECT_EQ(get("/readyz/bogus").status, 404);
  EXPECT_EQ(get("/livez/").status, 404);
}

TEST_F(HealthTest, OtherPathsAreNotServed) {
  auto w = get("/livezz");
  EXPECT_FALSE(served_);
  EXPECT_EQ(w.responses, 0);
  get("/api/v1");
  EXPECT_FALSE(served_);
  get("/");
  EXPECT_FALSE(served_);
}

}  // namespace
}  // namespace berth::apiserver::health
