// The kubelet API's log reader over rotated CRI log files (logs/log_files.h) and its read-only
// endpoints, with a fake locator: no containers needed.
#include "kubelet/streaming/container_logs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "apiserver/http/internal/test_client.h"
#include "apiserver/http/pki.h"
#include "kubelet/logs/log_files.h"
#include "kubelet/streaming/cri_log.h"
#include "kubelet/streaming/streaming_server.h"

namespace berth::kubelet::streaming {
namespace {

namespace fs = std::filesystem;
using apiserver::http::testing::TestClient;
using apiserver::http::testing::TlsOptions;

class FakeLocator : public ContainerLocator {
 public:
  std::optional<ContainerInfo> find(const std::string& ns, const std::string& pod,
                                    const std::string&) override {
    std::lock_guard lock(mu);
    if (ns != "default" || pod != "app") return std::nullopt;
    return info;
  }
  std::optional<std::string> podNetns(const std::string&, const std::string&) override {
    return std::nullopt;
  }
  std::mutex mu;
  ContainerInfo info;
};

std::string entry(int i) {
  return formatCriLogLine(1764428645000000000LL + i * 1000000000LL, "stdout", false,
                          "line " + std::to_string(i));
}

class RotatedLogs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-rotated-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ASSERT_TRUE(apiserver::http::ensurePki(dir_ + "/pki", {"127.0.0.1"}).ok());
    auto paths = apiserver::http::pkiPathsIn(dir_ + "/pki");
    StreamingServerConfig config;
    config.port = 0;
    config.certFile = paths.servingCert;
    config.keyFile = paths.servingKey;
    config.clientCaFile = paths.caCert;
    config.scratchDir = dir_ + "/scratch";
    config.endpoints["/stats/summary"] = {"application/json",
                                          [] { return core::Result<std::string>("{\"a\":1}"); }};
    config.endpoints["/broken"] = {
        "text/plain",
        [] { return core::Result<std::string>(core::Status::internal("cannot read")); }};
    locator_.info.pid = 1;
    locator_.info.logPath = dir_ + "/0.log";
    server_ = std::make_unique<StreamingServer>(config, locator_);
    ASSERT_TRUE(server_->start().ok());
    ASSERT_TRUE(apiserver::http::issueClientCert(dir_ + "/pki", "kube-apiserver-kubelet-client",
                                                 {"system:masters"}, &tls_.clientCertPem,
                                                 &tls_.clientKeyPem)
                    .ok());
    tls_.offerH2 = false;
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::optional<apiserver::http::testing::Response> get(const std::string& target) {
    TestClient client;
    if (client.connect(server_->port(), &tls_) != "") return std::nullopt;
    if (!client.writeAll("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")) return std::nullopt;
    return client.readResponse();
  }

  std::string dir_;
  FakeLocator locator_;
  std::unique_ptr<StreamingServer> server_;
  TlsOptions tls_;
};

std::string lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

TEST_F(RotatedLogs, TailAndSinceReachAcrossRotatedAndCompressedFiles) {
  // 22 lines, 6 per file: two gzipped, one plain rotated, the current one partly filled.
  logs::CriLogWriter w(dir_ + "/0.log", {static_cast<int64_t>(entry(10).size() * 6), 10, true});
  ASSERT_TRUE(w.open());
  for (int i = 0; i < 22; ++i) w.write(entry(i));
  auto rotated = logs::rotatedLogFiles(dir_ + "/0.log");
  ASSERT_EQ(rotated.size(), 3u);
  ASSERT_TRUE(rotated[0].ends_with(".gz"));

  auto all = get("/containerLogs/default/app/c");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_EQ(all->body, lines(0, 21));
  auto tail = get("/containerLogs/default/app/c?tailLines=9");
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->body, lines(13, 21)) << "the tail spans the current and the rotated file";
  auto tailAll = get("/containerLogs/default/app/c?tailLines=100");
  ASSERT_TRUE(tailAll);
  EXPECT_EQ(tailAll->body, lines(0, 21));
  auto since = get("/containerLogs/default/app/c?sinceTime=" +
                   formatRfc3339Nano(1764428645000000000LL + 3 * 1000000000LL));
  ASSERT_TRUE(since);
  EXPECT_EQ(since->body, lines(3, 21)) << "since starts inside the oldest (compressed) file";
}

TEST_F(RotatedLogs, FollowContinuesAcrossRotations) {
  logs::CriLogWriter w(dir_ + "/0.log", {static_cast<int64_t>(entry(10).size() * 3), 4, true});
  ASSERT_TRUE(w.open());
  w.write(entry(0));
  std::optional<apiserver::http::testing::Response> followed;
  std::thread reader([&] { followed = get("/containerLogs/default/app/c?follow=true"); });
  // Written while the client follows: several rotations, some of them between two of the
  // reader's looks.
  for (int i = 1; i < 40; ++i) {
    w.write(entry(i));
    if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(120));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard lock(locator_.mu);
    locator_.info.pid = 0;  // the container has ended: follow stops once it has read all
  }
  reader.join();
  ASSERT_TRUE(followed);
  EXPECT_EQ(followed->body, lines(0, 39));
}

TEST_F(RotatedLogs, EndpointsServeTheirBodiesToTheApiServerOnly) {
  auto r = get("/stats/summary");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body, "{\"a\":1}");
  auto broken = get("/broken");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 500);
  EXPECT_NE(broken->body.find("cannot read"), std::string::npos);

  TestClient anonymous;
  TlsOptions none;
  none.offerH2 = false;
  ASSERT_EQ(anonymous.connect(server_->port(), &none), "");
  ASSERT_TRUE(anonymous.writeAll("GET /stats/summary HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto denied = anonymous.readResponse();
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
}

}  // namespace
}  // namespace berth::kubelet::streaming
