// Connection limits of the front door: handshake and idle deadlines, the connection cap, and
// what thousands of idle connections cost (no thread each). A real Server on port 0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/http/internal/test_client.h"
#include "apiserver/http/pki.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::http {
namespace {

using namespace std::chrono_literals;
using testing::TestClient;
using testing::TlsOptions;
using Clock = std::chrono::steady_clock;

// A TCP connection that never says anything (no TLS ClientHello).
int silentSocket(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits up to `timeout` for the server to close `fd`: true on EOF or reset.
bool closedByServer(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

int threadsInProcess() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

class ServerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-http-limits-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ensurePki(dir_, {"berth-test.local"}).ok());
    paths_ = pkiPathsIn(dir_);
    config_.port = 0;
    config_.certFile = paths_.servingCert;
    config_.keyFile = paths_.servingKey;
    config_.clientCaFile = paths_.caCert;
  }

  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void startServer() {
    auto tokens = [](std::string_view) { return UserInfo{}; };
    server_ = std::make_unique<Server>(config_, tokens, [this](Request& r, ResponseWriter& w) {
      if (r.path == "/slow-stream") {
        // A long-running response (a watch) that stays quiet longer than the idle timeout.
        w.beginStream(200, "application/json");
        w.writeChunk("start\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        w.writeChunk("end\n");
        w.endStream();
        return;
      }
      served_++;
      w.send(200, "text/plain", "ok " + r.path);
    });
    auto status = server_->start();
    ASSERT_TRUE(status.ok()) << status.message();
  }

  TlsOptions tls() const { return TlsOptions{paths_.caCert, "", "", true}; }

  // One GET over a fresh TLS connection; the body, or "" on failure.
  std::string get(const std::string& path) {
    TestClient client;
    TlsOptions options = tls();
    if (!client.connect(server_->port(), &options).empty()) return "";
    if (!client.sendRequest("GET", path)) return "";
    auto response = client.readResponse();
    return response ? response->body : "";
  }

  bool connectTls(TestClient& client) {
    TlsOptions options = tls();
    return client.connect(server_->port(), &options).empty();
  }
  // One GET on an open connection; the body, or what went wrong.
  static std::string ask(TestClient& client, const std::string& path) {
    if (!client.sendRequest("GET", path)) return "(send failed)";
    auto response = client.readResponse();
    return response ? response->body : "(no response)";
  }

  std::string dir_;
  PkiPaths paths_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::vector<int> fds_;
  std::atomic<int> served_{0};
};

TEST_F(ServerLimitsTest, SilentConnectionIsClosedAtTheHandshakeDeadline) {
  config_.handshakeTimeoutSeconds = 1;
  startServer();
  int fd = silentSocket(server_->port());
  ASSERT_GE(fd, 0);
  fds_.push_back(fd);
  auto start = Clock::now();
  EXPECT_FALSE(closedByServer(fd, 500ms)) << "closed before the deadline";
  EXPECT_TRUE(closedByServer(fd, 3000ms)) << "still open well after the deadline";
  EXPECT_GE(Clock::now() - start, 900ms);
  // The server closes the socket before it forgets the connection: the count follows shortly.
  for (int i = 0; i < 200 && server_->openConnections() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->openConnections(), 0u);
}

TEST_F(ServerLimitsTest, StalledHandshakeIsClosedAtTheDeadline) {
  config_.handshakeTimeoutSeconds = 1;
  startServer();
  int fd = silentSocket(server_->port());
  ASSERT_GE(fd, 0);
  fds_.push_back(fd);
  // The first bytes of a TLS record header, then nothing: a worker now waits in the handshake.
  ASSERT_EQ(::send(fd, "\x16\x03\x01", 3, MSG_NOSIGNAL), 3);
  EXPECT_TRUE(closedByServer(fd, 3000ms));
}

TEST_F(ServerLimitsTest, IdleKeepAliveIsClosedButLongResponseIsNot) {
  config_.idleTimeoutSeconds = 1;
  startServer();
  TestClient client;
  TlsOptions options = tls();
  ASSERT_EQ(client.connect(server_->port(), &options), "");
  ASSERT_TRUE(client.sendRequest("GET", "/slow-stream"));
  auto response = client.readResponse();  // 2.5 s of silence inside the response: not idle
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "start\nend\n");
  // Keep-alive: a second request within the idle timeout is served on the same connection.
  ASSERT_TRUE(client.sendRequest("GET", "/again"));
  response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "ok /again");
  auto idleSince = Clock::now();
  EXPECT_TRUE(client.closedByPeer());  // blocks until the server closes the idle connection
  auto idle = Clock::now() - idleSince;
  EXPECT_GE(idle, 900ms);
  EXPECT_LT(idle, 3000ms);
}

TEST_F(ServerLimitsTest, PipelinedRequestsAreAllAnswered) {
  startServer();
  TestClient client;
  TlsOptions options = tls();
  ASSERT_EQ(client.connect(server_->port(), &options), "");
  // Both requests arrive in one write: the second is buffered when the first is answered, so
  // the connection must not be parked with it unread.
  ASSERT_TRUE(
      client.writeAll("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client.readResponse();
  auto second = client.readResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "ok /one");
  EXPECT_EQ(second->body, "ok /two");
}

// After a response the worker waits for the next request for the linger time
// (keepAliveLingerMs), then parks the connection: requests at once, after a pause past the linger, and split over
// the linger are all answered on the same TLS connection.
TEST_F(ServerLimitsTest, KeepAliveRequestsWithinAndPastTheLinger) {
  config_.keepAliveLingerMs = 20;
  startServer();
  TestClient client;
  ASSERT_TRUE(connectTls(client));
  EXPECT_EQ(ask(client, "/1"), "ok /1");
  EXPECT_EQ(ask(client, "/2"), "ok /2");  // within the linger
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ask(client, "/3"), "ok /3");  // parked, then served again
  // The request line arrives within the linger, the rest only after it.
  ASSERT_TRUE(client.writeAll("GET /4 HTTP/1.1\r\n"));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(client.writeAll("Host: x\r\n\r\n"));
  auto split = client.readResponse();
  ASSERT_TRUE(split);
  EXPECT_EQ(split->body, "ok /4");
  EXPECT_EQ(ask(client, "/5"), "ok /5");
  EXPECT_EQ(served_.load(), 5);
}

// A worker waiting out the linger for a keep-alive request does not hold up stop(): shutting
// the socket down ends the wait at once.
TEST_F(ServerLimitsTest, StopDoesNotWaitForTheLinger) {
  config_.keepAliveLingerMs = 30'000;
  startServer();
  TestClient client;
  ASSERT_TRUE(connectTls(client));
  EXPECT_EQ(ask(client, "/one"), "ok /one");
  // A later request is still answered by the waiting worker.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ask(client, "/two"), "ok /two");
  auto start = Clock::now();
  server_->stop();
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(client.closedByPeer());
}

TEST_F(ServerLimitsTest, BeyondTheCapConnectionsWaitUntilOneCloses) {
  config_.maxConnections = 2;
  startServer();
  for (int i = 0; i < 2; ++i) {
    int fd = silentSocket(server_->port());
    ASSERT_GE(fd, 0);
    fds_.push_back(fd);
  }
  for (int i = 0; i < 100 && server_->openConnections() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server_->openConnections(), 2u);
  // The third connection completes in the kernel's backlog but is not accepted: no handshake.
  std::atomic<bool> done{false};
  std::string body;
  std::thread third([&] {
    body = get("/third");
    done = true;
  });
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(done.load());
  EXPECT_EQ(server_->openConnections(), 2u);
  ::close(fds_.back());
  fds_.pop_back();
  third.join();
  EXPECT_EQ(body, "ok /third");
}

// The point of the poller: a silent socket holds no thread. 2,000 of them, then a request is
// still served at once, and the process has about as many threads as before.
TEST_F(ServerLimitsTest, ThousandsOfIdleConnectionsHoldNoThreads) {
  constexpr int kIdle = 2000;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2 * kIdle + 100) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 2 * kIdle + 200);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, 2 * kIdle + 100u) << "RLIMIT_NOFILE hard limit too low";
  startServer();
  ASSERT_EQ(get("/warm"), "ok /warm");
  int threadsBefore = threadsInProcess();
  for (int i = 0; i < kIdle; ++i) {
    int fd = silentSocket(server_->port());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds_.push_back(fd);
  }
  for (int i = 0; i < 300 && server_->openConnections() < kIdle; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->openConnections(), static_cast<size_t>(kIdle));
  auto start = Clock::now();
  EXPECT_EQ(get("/still-served"), "ok /still-served");
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_LE(threadsInProcess(), threadsBefore + 4);
}

}  // namespace
}  // namespace berth::apiserver::http
