// End-to-end tests of the HTTPS front door: a real Server on port 0 with a generated PKI, driven
// by a byte-level client (internal/test_client.h) and, once, by the real kubectl.
#include "apiserver/http/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "apiserver/http/internal/test_client.h"
#include "apiserver/http/pki.h"

namespace berth::apiserver::http {
namespace {

using namespace std::chrono_literals;
using testing::Response;
using testing::TestClient;
using testing::TlsOptions;

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

// A one-shot gate a handler can block on.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool isOpen() {
    std::lock_guard lock(mu_);
    return open_;
  }
  // Waits up to `timeout`; returns whether the gate opened.
  bool waitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A detached stream's source fed by the test: send() queues a chunk, end() finishes it.
class FeedSource : public StreamSource {
 public:
  void send(std::string data) {
    std::lock_guard lock(mu_);
    pending_ += data;
  }
  void end() {
    std::lock_guard lock(mu_);
    end_ = true;
  }
  Next produce(std::string& out, Clock::time_point) override {
    std::lock_guard lock(mu_);
    out += pending_;
    pending_.clear();
    return end_ ? Next::kEnd : Next::kIdle;
  }
  Clock::time_point wakeAt() const override { return Clock::time_point::max(); }
  void closed() override { closedCalls++; }
  std::atomic<int> closedCalls{0};

 private:
  std::mutex mu_;
  std::string pending_;
  bool end_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-http-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ensurePki(dir_, {"berth-test.local"}).ok());
    paths_ = pkiPathsIn(dir_);
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void startServer(bool tls = true, size_t maxBodyBytes = 3 * 1024 * 1024) {
    ServerConfig config;
    config.port = 0;
    config.tls = tls;
    config.certFile = paths_.servingCert;
    config.keyFile = paths_.servingKey;
    config.clientCaFile = paths_.caCert;
    config.maxBodyBytes = maxBodyBytes;
    auto tokens = [](std::string_view token) {
      if (token == "good-token") return UserInfo{"alice", {"devs"}};
      return UserInfo{};
    };
    server_ = std::make_unique<Server>(config, tokens,
                                       [this](Request& r, ResponseWriter& w) { handle(r, w); });
    auto status = server_->start();
    ASSERT_TRUE(status.ok()) << status.message();
    ASSERT_NE(server_->port(), 0);
  }

  TlsOptions tlsOptions() const { return TlsOptions{paths_.caCert, "", "", true}; }

  void connect(TestClient& client, const TlsOptions* tls) {
    std::string error = client.connect(server_->port(), tls);
    ASSERT_EQ(error, "");
  }

  void handle(Request& request, ResponseWriter& writer) {
    handlerCalls_++;
    if (request.path == "/echo" || request.path.rfind("/api/", 0) == 0) {
      std::string out = "user=" + request.user.name + "\n";
      out += "groups=" + joined(request.user.groups) + "\n";
      out += "method=" + request.method + "\npath=" + request.path + "\n";
      for (const auto& [key, value] : request.query) out += "q:" + key + "=" + value + "\n";
      for (const auto& [key, value] : request.headers) out += "h:" + key + "=" + value + "\n";
      out += "body=" + request.body + "\n";
      writer.addHeader("X-Handler", "echo");
      writer.send(200, "text/plain", out);
    } else if (request.path == "/hello") {
      writer.send(200, "application/json", "{\"hello\":\"" + request.user.name + "\"}");
    } else if (request.path == "/stream") {
      writer.beginStream(200, "application/json");
      writer.writeChunk("one");
      // Blocks until the test has read chunk one; proves it was flushed before we returned.
      bool opened = streamGate_.waitFor(5s);
      writer.writeChunk(opened ? "two" : "timeout");
      writer.endStream();
    } else if (request.path == "/block") {
      writer.beginStream(200, "application/json");
      writer.writeChunk("x");
      blockStarted_.open();
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (writer.clientConnected() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
      }
      blockNoticedGone_ = std::chrono::steady_clock::now() < deadline;
      blockExited_.open();
    } else if (request.path == "/upgrade" && request.isUpgrade()) {
      writer.addHeader("Upgrade", "shout");
      writer.addHeader("Connection", "Upgrade");
      RawStream* raw = writer.switchProtocols();
      if (raw == nullptr) return;
      // The payload came with the request: readable without polling the socket.
      upgradePendingBefore_ = raw->inputPending();
      upgradeFd_ = raw->pollFd();
      char data[64];
      size_t n = raw->readSome(data, sizeof(data));
      upgradePendingAfter_ = raw->inputPending();
      std::string text(data, n);
      for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      raw->writeAll(text);
    } else if (request.path == "/detach") {
      writer.beginStream(200, "application/json");
      writer.writeChunk("first");
      detachWaker_ = writer.detachStream(detachSource_);
      detachReturned_.open();  // the handler (and its worker) are done with the stream
    } else if (request.path == "/silent") {
      // Writes nothing: the server must still answer.
    } else {
      writer.send(404, "text/plain", "not found");
    }
  }

  std::string dir_;
  PkiPaths paths_;
  std::unique_ptr<Server> server_;
  std::atomic<int> handlerCalls_{0};
  std::atomic<bool> upgradePendingBefore_{false}, upgradePendingAfter_{true};
  std::atomic<int> upgradeFd_{-1};
  Gate streamGate_, blockStarted_, blockExited_;
  std::atomic<bool> blockNoticedGone_{false};
  std::shared_ptr<FeedSource> detachSource_ = std::make_shared<FeedSource>();
  std::shared_ptr<StreamWaker> detachWaker_;
  Gate detachReturned_;

  // A detached stream over `tls` (null: plain HTTP) delivers chunks after its handler returned,
  // ends with the last chunk, and leaves the connection usable for the next request.
  void detachedStreamRoundTrip(const TlsOptions* tls) {
    TestClient client;
    connect(client, tls);
    ASSERT_TRUE(client.sendRequest("GET", "/detach"));
    auto head = client.readHead();
    ASSERT_TRUE(head);
    EXPECT_EQ(head->header("transfer-encoding"), "chunked");
    EXPECT_EQ(client.readChunk().value_or(""), "first");
    ASSERT_TRUE(detachReturned_.waitFor(5s));
    ASSERT_NE(detachWaker_, nullptr);
    for (const std::string& event : std::vector<std::string>{"second", std::string(100000, 'z')}) {
      detachSource_->send(event);
      detachWaker_->wake();
      EXPECT_EQ(client.readChunk().value_or(""), event);
    }
    detachSource_->end();
    detachWaker_->wake();
    EXPECT_FALSE(client.readChunk());  // the last chunk
    // The loop lets go of the source right after writing the last chunk.
    for (int i = 0; i < 500 && detachSource_->closedCalls.load() == 0; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(detachSource_->closedCalls.load(), 1);
    ASSERT_TRUE(client.sendRequest("GET", "/hello"));  // keep-alive after the stream
    auto next = client.readResponse();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
  }
};

// The listening socket must not leak into processes the server starts (container shims, nginx):
// they outlive the server and would hold its port, so a restart could not listen again.
TEST_F(ServerTest, ListeningSocketIsCloseOnExec) {
  startServer();
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(entry.path().filename().c_str());
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    int listening = 0;
    socklen_t optLen = sizeof listening;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sin_family != AF_INET || ntohs(addr.sin_port) != server_->port() ||
        ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optLen) != 0 || !listening) {
      continue;
    }
    ++found;
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "listening fd " << fd;
  }
  EXPECT_EQ(found, 1);
}

TEST_F(ServerTest, PortInUseSaysWhy) {
  startServer();
  ServerConfig config;
  config.port = server_->port();
  config.tls = false;
  Server second(config, [](std::string_view) { return UserInfo{}; },
                [](Request&, ResponseWriter& w) { w.send(200, "text/plain", ""); });
  auto status = second.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("in use"), std::string::npos) << status.message();
}

TEST_F(ServerTest, BearerTokenAuthenticatesAndAlpnIsHttp11) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  EXPECT_EQ(client.alpn(), "http/1.1");
  ASSERT_TRUE(client.sendRequest("GET", "/echo", "Authorization: Bearer good-token\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("x-handler"), "echo");
  EXPECT_NE(response->body.find("user=alice\n"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("groups=devs,system:authenticated\n"), std::string::npos);
}

TEST_F(ServerTest, InvalidBearerTokenIs401StatusWithoutCallingHandler) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/echo", "Authorization: Bearer nope\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_NE(response->body.find("\"kind\":\"Status\""), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("\"reason\":\"Unauthorized\""), std::string::npos);
  EXPECT_NE(response->body.find("\"code\":401"), std::string::npos);
  EXPECT_EQ(handlerCalls_.load(), 0);
  // The connection stays usable (keep-alive) for a request with good credentials.
  ASSERT_TRUE(client.sendRequest("GET", "/echo", "Authorization: bearer good-token\r\n"));
  response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(handlerCalls_.load(), 1);
}

TEST_F(ServerTest, NoCredentialsReachHandlerAsAnonymous) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/echo"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("user=\ngroups=\n"), std::string::npos) << response->body;
}

TEST_F(ServerTest, ClientCertificateSetsUserAndGroups) {
  startServer();
  TlsOptions tls = tlsOptions();
  ASSERT_TRUE(
      issueClientCert(dir_, "bob", {"system:masters", "ops"}, &tls.clientCertPem, &tls.clientKeyPem)
          .ok());
  TestClient client;
  connect(client, &tls);
  // The certificate wins over a (bad) token, as upstream tries x509 first.
  ASSERT_TRUE(client.sendRequest("GET", "/echo", "Authorization: Bearer nope\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("user=bob\n"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("groups=system:masters,ops,system:authenticated\n"),
            std::string::npos);
}

TEST_F(ServerTest, CertificateFromAnotherCaIsRejected) {
  startServer();
  std::string otherDir = dir_ + "/other";
  ASSERT_TRUE(ensurePki(otherDir, {}).ok());
  TlsOptions tls = tlsOptions();
  ASSERT_TRUE(issueClientCert(otherDir, "mallory", {"system:masters"}, &tls.clientCertPem,
                              &tls.clientKeyPem)
                  .ok());
  TestClient client;
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/echo"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(handlerCalls_.load(), 0);
}

TEST_F(ServerTest, ChunksArriveWhileHandlerIsStillRunning) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/stream"));
  auto head = client.readHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("transfer-encoding"), "chunked");
  auto first = client.readChunk();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "one");
  EXPECT_FALSE(streamGate_.isOpen());  // the handler is still blocked behind the gate
  streamGate_.open();
  auto second = client.readChunk();
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, "two");
  EXPECT_FALSE(client.readChunk());  // last chunk
  // Keep-alive after a chunked response.
  ASSERT_TRUE(client.sendRequest("GET", "/hello"));
  auto next = client.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(ServerTest, DetachedStreamRunsWithoutItsHandlerOverTls) {
  startServer();
  TlsOptions tls = tlsOptions();
  detachedStreamRoundTrip(&tls);
}

TEST_F(ServerTest, DetachedStreamRunsWithoutItsHandlerOverPlainHttp) {
  startServer(false);
  detachedStreamRoundTrip(nullptr);
}

TEST_F(ServerTest, DetachedStreamEndsWhenTheClientHangsUp) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/detach"));
  ASSERT_TRUE(client.readHead());
  ASSERT_TRUE(detachReturned_.waitFor(5s));
  EXPECT_EQ(server_->openConnections(), 1u);
  client.close();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->openConnections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 0u);
  EXPECT_EQ(detachSource_->closedCalls.load(), 1);
}

TEST_F(ServerTest, QueryAndHeadersAreDecoded) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest(
      "GET", "/api/v1/namespaces/a%20b/pods?labelSelector=app%3Dweb%2Ctier+in+(x)&a=1&a=2&flag",
      "X-Custom-Thing: Value\r\nX-Multi: 1\r\nx-multi: 2\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  const std::string& body = response->body;
  EXPECT_NE(body.find("path=/api/v1/namespaces/a b/pods\n"), std::string::npos) << body;
  EXPECT_NE(body.find("q:labelSelector=app=web,tier in (x)\n"), std::string::npos);
  EXPECT_NE(body.find("q:a=1\nq:a=2\n"), std::string::npos);
  EXPECT_NE(body.find("q:flag=\n"), std::string::npos);
  EXPECT_NE(body.find("h:x-custom-thing=Value\n"), std::string::npos);
  EXPECT_NE(body.find("h:x-multi=1, 2\n"), std::string::npos);

  ASSERT_TRUE(client.sendRequest("GET", "/api/v1/pods?x=%zz"));
  response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
}

TEST_F(ServerTest, PostBodyReachesHandler) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("POST", "/echo", "Content-Type: application/json\r\n",
                                 "{\"kind\":\"Pod\"}"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_NE(response->body.find("method=POST\n"), std::string::npos);
  EXPECT_NE(response->body.find("body={\"kind\":\"Pod\"}\n"), std::string::npos);
}

TEST_F(ServerTest, OversizeBodyIs413Status) {
  startServer(true, 1024);
  {
    TestClient client;
    TlsOptions tls = tlsOptions();
    connect(client, &tls);
    ASSERT_TRUE(client.sendRequest("POST", "/echo", "", std::string(2000, 'x')));
    auto response = client.readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_NE(response->body.find("\"code\":413"), std::string::npos) << response->body;
    EXPECT_EQ(response->header("connection"), "close");
  }
  {  // A chunked body of unknown length is cut off too.
    TestClient client;
    TlsOptions tls = tlsOptions();
    connect(client, &tls);
    std::string chunk(700, 'y');
    char size[16];
    std::snprintf(size, sizeof(size), "%zx", chunk.size());
    std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 2; ++i) request += std::string(size) + "\r\n" + chunk + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(client.writeAll(request));
    auto response = client.readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  EXPECT_EQ(handlerCalls_.load(), 0);
}

TEST_F(ServerTest, StopReturnsPromptlyWhileStreamingHandlerIsBlocked) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/block"));
  ASSERT_TRUE(client.readHead());
  ASSERT_EQ(client.readChunk().value_or(""), "x");
  ASSERT_TRUE(blockStarted_.waitFor(5s));
  // An idle keep-alive connection must not hold stop() up either.
  TestClient idle;
  connect(idle, &tls);
  auto start = std::chrono::steady_clock::now();
  server_->stop();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 2s);
  EXPECT_TRUE(blockExited_.isOpen());
  EXPECT_TRUE(blockNoticedGone_.load());
  // The stream ends (a last chunk may or may not make it out first) and the connection closes.
  EXPECT_FALSE(client.readChunk());
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_TRUE(idle.closedByPeer());
  server_->stop();  // idempotent
}

TEST_F(ServerTest, HandlerNoticesClientDisconnect) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  ASSERT_TRUE(client.sendRequest("GET", "/block"));
  ASSERT_TRUE(client.readHead());
  ASSERT_TRUE(blockStarted_.waitFor(5s));
  client.close();
  ASSERT_TRUE(blockExited_.waitFor(3s));
  EXPECT_TRUE(blockNoticedGone_.load());
}

TEST_F(ServerTest, PlainHttpModeServesRequests) {
  startServer(false);
  TestClient client;
  connect(client, nullptr);
  ASSERT_TRUE(client.sendRequest("GET", "/echo?x=1", "Authorization: Bearer good-token\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("user=alice\n"), std::string::npos);
  // Connection: close is honoured.
  ASSERT_TRUE(client.sendRequest("GET", "/hello", "Connection: close\r\n"));
  response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
}

TEST_F(ServerTest, HandlerWithoutResponseGets500) {
  startServer(false);
  TestClient client;
  connect(client, nullptr);
  ASSERT_TRUE(client.sendRequest("GET", "/silent"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

TEST_F(ServerTest, MalformedRequestIs400) {
  startServer(false);
  TestClient client;
  connect(client, nullptr);
  ASSERT_TRUE(client.writeAll("GET /x HTTP/1.1\r\nBad Header Line\r\n\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(handlerCalls_.load(), 0);
}

TEST_F(ServerTest, UpgradeHandsOverTheRawStream) {
  startServer();
  TestClient client;
  TlsOptions tls = tlsOptions();
  connect(client, &tls);
  // The payload follows the request in the same write: the server must hand over the bytes it
  // already buffered.
  ASSERT_TRUE(client.writeAll(
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nhello"));
  auto head = client.readHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 101);
  EXPECT_EQ(head->header("upgrade"), "shout");
  std::string echoed;
  ASSERT_TRUE(client.readExactly(5, &echoed));
  EXPECT_EQ(echoed, "HELLO");
  EXPECT_TRUE(client.closedByPeer());
  // For handlers that poll(2) the stream beside other descriptors (exec, port-forward).
  EXPECT_TRUE(upgradePendingBefore_);
  EXPECT_FALSE(upgradePendingAfter_);
  EXPECT_GE(upgradeFd_, 0);
}

// The real kubectl (Go's TLS stack, ALPN h2+http/1.1, SAN checks) against the server.
TEST_F(ServerTest, KubectlGetRawWorks) {
  const char* kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";
  if (access(kubectl, X_OK) != 0) GTEST_SKIP() << "no kubectl";
  startServer();
  std::string clientCert, clientKey;
  ASSERT_TRUE(issueClientCert(dir_, "carol", {"system:masters"}, &clientCert, &clientKey).ok());
  auto writeKubeconfig = [&](const std::string& name, const std::string& userBlock) {
    std::string path = dir_ + "/" + name;
    std::ofstream out(path);
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        << "    server: https://127.0.0.1:" << server_->port() << "\n"
        << "    certificate-authority: " << paths_.caCert << "\n"
        << "users:\n- name: u\n  user:\n"
        << userBlock
        << "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
    return path;
  };
  auto run = [&](const std::string& kubeconfig, const std::string& path) {
    std::string command =
        std::string(kubectl) + " --kubeconfig " + kubeconfig + " get --raw " + path + " 2>&1";
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return output;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
    pclose(pipe);
    return output;
  };
  std::string byToken = writeKubeconfig("token.kubeconfig", "    token: good-token\n");
  EXPECT_EQ(run(byToken, "/hello"), "{\"hello\":\"alice\"}");
  std::ofstream(dir_ + "/client.crt") << clientCert;
  std::ofstream(dir_ + "/client.key") << clientKey;
  std::string byCert =
      writeKubeconfig("cert.kubeconfig", "    client-certificate: " + dir_ + "/client.crt\n" +
                                             "    client-key: " + dir_ + "/client.key\n");
  EXPECT_EQ(run(byCert, "/hello"), "{\"hello\":\"carol\"}");
  std::string badToken = writeKubeconfig("bad.kubeconfig", "    token: wrong\n");
  EXPECT_NE(run(badToken, "/hello").find("Unauthorized"), std::string::npos);
}

}  // namespace
}  // namespace berth::apiserver::http
