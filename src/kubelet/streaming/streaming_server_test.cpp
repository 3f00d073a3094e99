// The streaming server against real containers: a RuncSandbox runs busybox pods with runc in
// network namespaces of their own, and a TLS client speaks the wire protocols byte by byte.
#include "kubelet/streaming/streaming_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <thread>

#include "apiserver/http/internal/test_client.h"
#include "apiserver/http/pki.h"
#include "kubelet/streaming/runc_sandbox.h"
#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/websocket.h"

namespace berth::kubelet::streaming {
namespace {

using apiserver::http::testing::TestClient;
using apiserver::http::testing::TlsOptions;

class StreamingServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(::geteuid(), 0u) << "runs containers: needs root";
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("berth-streaming-test-" + std::to_string(::getpid())));
    auto sandbox = RuncSandbox::create(*dir_ + "/sandbox");
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().message();
    sandbox_ = sandbox->release();
    ASSERT_TRUE(
        sandbox_->addPod("default", "app", {{"c", "echo hello; echo oops >&2; sleep 1000"}}).ok());
    ASSERT_TRUE(sandbox_->addPod("default", "web", {{"web", "httpd -f -p 8080 -h /www"}}).ok());
    ASSERT_TRUE(apiserver::http::ensurePki(*dir_ + "/pki", {"127.0.0.1"}).ok());
    auto paths = apiserver::http::pkiPathsIn(*dir_ + "/pki");
    StreamingServerConfig config;
    config.port = 0;
    config.certFile = paths.servingCert;
    config.keyFile = paths.servingKey;
    config.clientCaFile = paths.caCert;
    config.scratchDir = *dir_ + "/scratch";
    server_ = new StreamingServer(config, *sandbox_);
    ASSERT_TRUE(server_->start().ok());
    apiServer_ = new TlsOptions();
    ASSERT_TRUE(apiserver::http::issueClientCert(*dir_ + "/pki", "kube-apiserver-kubelet-client",
                                                 {"system:masters"}, &apiServer_->clientCertPem,
                                                 &apiServer_->clientKeyPem)
                    .ok());
    apiServer_->offerH2 = false;
  }

  static void TearDownTestSuite() {
    delete server_;
    delete sandbox_;  // kills and deletes the containers, namespaces and cgroups
    std::error_code ec;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_, ec);
    delete dir_;
    delete apiServer_;
  }

  void connect(TestClient& client, const TlsOptions& tls) {
    ASSERT_EQ(client.connect(server_->port(), &tls), "");
  }

  // Sends an upgrade request with `headers` (protocol-specific lines) and expects 101.
  void upgrade(TestClient& client, const std::string& method, const std::string& target,
               const std::string& headers, apiserver::http::testing::Response* head) {
    connect(client, *apiServer_);
    ASSERT_TRUE(client.writeAll(method + " " + target +
                                " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n" + headers +
                                "Content-Length: 0\r\n\r\n"));
    auto response = client.readHead();
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 101);
    *head = *response;
  }

  static constexpr const char* kWebSocket =
      "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

  // Reads one server WebSocket message.
  static std::optional<WsMessage> readWs(TestClient& client, WsDecoder& decoder) {
    for (;;) {
      if (auto m = decoder.next()) return m;
      std::string head;
      if (!client.readExactly(2, &head)) return std::nullopt;
      size_t len = static_cast<uint8_t>(head[1]) & 0x7f;
      std::string ext;
      if (len == 126 || len == 127) {
        if (!client.readExactly(len == 126 ? 2 : 8, &ext)) return std::nullopt;
        len = 0;
        for (char c : ext) len = (len << 8) | static_cast<uint8_t>(c);
      }
      std::string payload;
      if (len > 0 && !client.readExactly(len, &payload)) return std::nullopt;
      decoder.feed(head + ext + payload);
    }
  }

  static std::optional<SpdyFrame> readSpdy(TestClient& client, SpdyCodec& codec) {
    for (;;) {
      if (auto f = codec.next()) return f;
      std::string head, payload;
      if (!client.readExactly(8, &head)) return std::nullopt;
      size_t len = (size_t{static_cast<uint8_t>(head[5])} << 16) |
                   (size_t{static_cast<uint8_t>(head[6])} << 8) | static_cast<uint8_t>(head[7]);
      if (len > 0 && !client.readExactly(len, &payload)) return std::nullopt;
      codec.feed(head + payload);
    }
  }

  static std::string* dir_;
  static RuncSandbox* sandbox_;
  static StreamingServer* server_;
  static TlsOptions* apiServer_;
};

std::string* StreamingServerTest::dir_ = nullptr;
RuncSandbox* StreamingServerTest::sandbox_ = nullptr;
StreamingServer* StreamingServerTest::server_ = nullptr;
TlsOptions* StreamingServerTest::apiServer_ = nullptr;

TEST_F(StreamingServerTest, OnlyTheApiServerMayCall) {
  TestClient anonymous;
  TlsOptions none;
  none.offerH2 = false;
  connect(anonymous, none);
  ASSERT_TRUE(anonymous.writeAll("GET /containerLogs/default/app/c HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = anonymous.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  TlsOptions someone;
  someone.offerH2 = false;
  ASSERT_TRUE(apiserver::http::issueClientCert(*dir_ + "/pki", "mallory", {},
                                               &someone.clientCertPem, &someone.clientKeyPem)
                  .ok());
  TestClient other;
  connect(other, someone);
  ASSERT_TRUE(other.writeAll("GET /containerLogs/default/app/c HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = other.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(StreamingServerTest, ContainerLogsFromTheCriFile) {
  std::string body;
  for (int i = 0; i < 50 && body.find("oops") == std::string::npos; ++i) {
    TestClient client;
    connect(client, *apiServer_);
    ASSERT_TRUE(client.writeAll("GET /containerLogs/default/app/c HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = client.readResponse();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    body = r->body;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(body, "hello\noops\n");
  TestClient tail;
  connect(tail, *apiServer_);
  ASSERT_TRUE(tail.writeAll(
      "GET /containerLogs/default/app/c?tailLines=1&timestamps=true HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = tail.readResponse();
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("Z oops\n"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("hello"), std::string::npos) << r->body;

  TestClient missing;
  connect(missing, *apiServer_);
  ASSERT_TRUE(missing.writeAll("GET /containerLogs/default/nope/c HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = missing.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(StreamingServerTest, WebSocketExecReportsOutputAndExitCode) {
  TestClient client;
  apiserver::http::testing::Response head;
  ASSERT_NO_FATAL_FAILURE(upgrade(
      client, "GET",
      "/exec/default/app/c?command=sh&command=-c&command=read+x%3B+echo+got+%24x%3B+exit+7"
      "&stdin=true&stdout=true&stderr=true",
      std::string(kWebSocket) + "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n",
      &head));
  EXPECT_EQ(head.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(head.header("sec-websocket-protocol"), "v5.channel.k8s.io");
  ASSERT_TRUE(client.writeAll(wsEncode(WsOpcode::kBinary, std::string("\0ping\n", 6), true)));
  WsDecoder decoder(false);
  std::string stdout, status;
  while (auto m = readWs(client, decoder)) {
    if (m->opcode == WsOpcode::kClose) break;
    ASSERT_FALSE(m->payload.empty());
    if (m->payload[0] == 1) stdout += m->payload.substr(1);
    if (m->payload[0] == 3) status += m->payload.substr(1);
  }
  EXPECT_EQ(stdout, "got ping\n");
  auto s = boost::json::parse(status).as_object();
  EXPECT_EQ(s["reason"], "NonZeroExitCode");
  EXPECT_EQ(s["details"].at("causes").at(0).at("message"), "7");
}

TEST_F(StreamingServerTest, SpdyExecWaitsForTheClientsStreams) {
  TestClient client;
  apiserver::http::testing::Response head;
  ASSERT_NO_FATAL_FAILURE(
      upgrade(client, "POST", "/exec/default/app/c?command=echo&command=spdy&stdout=true",
              "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n", &head));
  EXPECT_EQ(head.header("x-stream-protocol-version"), "v4.channel.k8s.io");
  SpdyCodec codec;
  // One compression context: header blocks must go out in the order they were compressed.
  std::string streams = codec.synStream(1, {{"streamtype", "error"}});
  streams += codec.synStream(3, {{"streamtype", "stdout"}});
  ASSERT_TRUE(client.writeAll(streams));
  std::string out, status;
  bool goAway = false;
  while (auto f = readSpdy(client, codec)) {
    if (f->type == SpdyType::kData && f->streamId == 3) out += f->data;
    if (f->type == SpdyType::kData && f->streamId == 1) status += f->data;
    if (f->type == SpdyType::kGoAway) {
      goAway = true;
      break;
    }
  }
  EXPECT_TRUE(goAway);
  EXPECT_EQ(out, "spdy\n");
  EXPECT_EQ(boost::json::parse(status).at("status"), "Success");
}

TEST_F(StreamingServerTest, SpdyPortForwardReachesThePodsLoopback) {
  TestClient client;
  apiserver::http::testing::Response head;
  ASSERT_NO_FATAL_FAILURE(
      upgrade(client, "POST", "/portForward/default/web",
              "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n", &head));
  SpdyCodec codec;
  // httpd may still be starting: retry a few request pairs.
  std::string response;
  for (uint32_t id = 1; id < 60 && response.find("hello from the pod") == std::string::npos;
       id += 4) {
    std::string rid = std::to_string(id);
    std::string pair =
        codec.synStream(id, {{"streamtype", "error"}, {"port", "8080"}, {"requestid", rid}});
    pair += codec.synStream(id + 2, {{"streamtype", "data"}, {"port", "8080"}, {"requestid", rid}});
    pair += codec.data(id + 2, "GET /index.html HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(client.writeAll(pair));
    std::string error;
    bool dataDone = false, errorDone = false;
    while (!(dataDone && errorDone)) {
      auto f = readSpdy(client, codec);
      ASSERT_TRUE(f);
      if (f->type != SpdyType::kData) continue;
      if (f->streamId == id + 2) response += f->data, dataDone = f->fin();
      if (f->streamId == id) error += f->data, errorDone = f->fin();
    }
    if (response.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(response.find("hello from the pod"), std::string::npos) << response;
}

TEST_F(StreamingServerTest, WebSocketPortForwardPrefixesEachChannelWithItsPort) {
  TestClient client;
  apiserver::http::testing::Response head;
  ASSERT_NO_FATAL_FAILURE(
      upgrade(client, "GET", "/portForward/default/web?ports=8080",
              std::string(kWebSocket) + "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n", &head));
  WsDecoder decoder(false);
  auto data = readWs(client, decoder);
  auto error = readWs(client, decoder);
  ASSERT_TRUE(data && error);
  EXPECT_EQ(data->payload, std::string("\x00\x90\x1f", 3));  // channel 0, port 8080 LE
  EXPECT_EQ(error->payload, std::string("\x01\x90\x1f", 3));
  ASSERT_TRUE(client.writeAll(wsEncode(
      WsOpcode::kBinary, std::string(1, '\0') + "GET /index.html HTTP/1.0\r\n\r\n", true)));
  std::string response;
  while (auto m = readWs(client, decoder)) {
    if (m->opcode == WsOpcode::kClose) break;
    if (!m->payload.empty() && m->payload[0] == 0) response += m->payload.substr(1);
  }
  EXPECT_NE(response.find("hello from the pod"), std::string::npos) << response;
}

}  // namespace
}  // namespace berth::kubelet::streaming
