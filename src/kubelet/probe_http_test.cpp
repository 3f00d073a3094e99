// The probes' and hooks' HTTP client against real servers on 127.0.0.1: an HTTPS server (the
// API server's transport, berth_http) with a certificate from a CA the client has never seen,
// so only an unverified TLS client gets through; and a raw socket server for plain HTTP and for
// an HTTP server answering a TLS handshake.
#include "kubelet/probe_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "apiserver/http/pki.h"
#include "apiserver/http/server.h"
#include "kubelet/lifecycle_hooks.h"
#include "kubelet/probes.h"

namespace json = boost::json;
namespace http = berth::apiserver::http;

namespace berth::kubelet {
namespace {

using namespace std::chrono_literals;

class TlsServer {
 public:
  TlsServer() {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-probe-http-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    EXPECT_TRUE(http::ensurePki(dir_.string(), {"127.0.0.1"}).ok());
    auto paths = http::pkiPathsIn(dir_.string());
    http::ServerConfig config;
    config.port = 0;
    config.certFile = paths.servingCert;
    config.keyFile = paths.servingKey;
    server_ = std::make_unique<http::Server>(
        config, nullptr, [this](http::Request& req, http::ResponseWriter& w) { serve(req, w); });
    EXPECT_TRUE(server_->start().ok());
  }
  ~TlsServer() {
    server_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int port() const { return server_->port(); }
  std::vector<http::Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve(http::Request& req, http::ResponseWriter& w) {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    std::string self = "https://127.0.0.1:" + std::to_string(port());
    if (req.path == "/ok") return w.send(200, "text/plain", "fine");
    if (req.path == "/fail") return w.send(503, "text/plain", "down");
    if (req.path == "/moved") {  // a relative redirect
      w.addHeader("Location", "/ok");
      return w.send(302, "text/plain", "");
    }
    if (req.path == "/absolute") {  // an absolute one to the same host
      w.addHeader("Location", self + "/moved");
      return w.send(301, "text/plain", "");
    }
    if (req.path == "/elsewhere") {
      w.addHeader("Location", "http://example.invalid/x");
      return w.send(302, "text/plain", "see other host");
    }
    if (req.path == "/loop") {
      w.addHeader("Location", "/loop");
      return w.send(307, "text/plain", "");
    }
    if (req.path == "/slow") {
      std::this_thread::sleep_for(2s);
      return w.send(200, "text/plain", "late");
    }
    if (req.path == "/big") return w.send(200, "text/plain", std::string(20000, 'x'));
    w.send(404, "text/plain", "no");
  }

  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<http::Request> requests_;
};

json::object action(int port, const std::string& path, const std::string& extra = "") {
  return json::parse(R"({"scheme":"HTTPS","port":)" + std::to_string(port) + R"(,"path":")" + path +
                     "\"" + extra + "}")
      .as_object();
}

HttpGetOptions within(std::chrono::milliseconds t) {
  HttpGetOptions o;
  o.timeout = t;
  return o;
}

TEST(ProbeHttp, HttpsWithoutVerifyingTheCertificate) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/ok"), "127.0.0.1", within(2s));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "fine");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("user-agent"), std::string("kube-probe/") + kKubeletMajorMinor);
  EXPECT_EQ(reqs[0].header("accept"), "*/*");
  EXPECT_EQ(reqs[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(ProbeHttp, HandlerHeadersReplaceTheDefaults) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/ok", R"(,"httpHeaders":[
      {"name":"User-Agent","value":"mine"},{"name":"Accept","value":""},
      {"name":"X-Custom","value":"v"},{"name":"host","value":"web.example"}])"),
                         "127.0.0.1", within(2s));
  EXPECT_EQ(r.error, "");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("user-agent"), "mine");
  EXPECT_EQ(reqs[0].header("accept"), "");  // an empty Accept removes it
  EXPECT_EQ(reqs[0].header("x-custom"), "v");
  EXPECT_EQ(reqs[0].header("host"), "web.example");
}

TEST(ProbeHttp, FollowsRedirectsToTheSameHost) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/absolute"), "127.0.0.1", within(2s));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.offHostRedirect);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].path, "/moved");
  EXPECT_EQ(reqs[2].path, "/ok");
}

TEST(ProbeHttp, StopsAtARedirectToAnotherHost) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/elsewhere"), "127.0.0.1", within(2s));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 302);
  EXPECT_TRUE(r.offHostRedirect);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ProbeHttp, StopsAfterTenRedirects) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/loop"), "127.0.0.1", within(5s));
  EXPECT_EQ(r.error, "Get \"https://127.0.0.1:" + std::to_string(server.port()) +
                         "/loop\": stopped after 10 redirects");
  EXPECT_EQ(server.requests().size(), 10u);
}

TEST(ProbeHttp, TimeoutCoversTheWholeExchange) {
  TlsServer server;
  auto start = std::chrono::steady_clock::now();
  auto r = httpGetAction(action(server.port(), "/slow"), "127.0.0.1", within(300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_NE(r.error.find("context deadline exceeded"), std::string::npos) << r.error;
}

TEST(ProbeHttp, CancelEndsAnUnboundedRequest) {
  TlsServer server;
  std::atomic<bool> cancel{false};
  HttpGetOptions o;  // no timeout, as a postStart hook
  o.cancelled = [&] { return cancel.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = httpGetAction(action(server.port(), "/slow"), "127.0.0.1", o);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_NE(r.error.find("context canceled"), std::string::npos) << r.error;
}

TEST(ProbeHttp, BodyIsCutAtTenKiB) {
  TlsServer server;
  auto r = httpGetAction(action(server.port(), "/big"), "127.0.0.1", within(2s));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), kMaxProbeBodyBytes);
}

const runtime::Runc kRunc("/nonexistent");

TEST(ProbeHttp, ProbeOutcomes) {
  TlsServer server;
  auto probe = [&](const std::string& path) {
    return runProbe(json::object{{"httpGet", action(server.port(), path)}, {"timeoutSeconds", 2}},
                    kRunc, "id", "127.0.0.1");
  };
  auto ok = probe("/ok");
  EXPECT_TRUE(ok.success) << ok.message;
  EXPECT_EQ(ok.warning, "");
  auto down = probe("/fail");
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.message, "HTTP probe failed with statuscode: 503");
  // A redirect to another host passes with upstream's warning (the ProbeWarning event).
  auto away = probe("/elsewhere");
  EXPECT_TRUE(away.success) << away.message;
  EXPECT_EQ(away.warning, "Probe terminated redirects, Response body: see other host");
}

// Serves `answers.size()` connections on 127.0.0.1, one answer each, keeping what arrived.
class RawServer {
 public:
  explicit RawServer(std::vector<std::string> answers) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this, answers] {
      for (const auto& answer : answers) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        ssize_t n = ::read(c, buf, sizeof buf);
        {
          std::lock_guard lock(mu_);
          received_.emplace_back(buf, n > 0 ? static_cast<size_t>(n) : 0);
        }
        (void)!::write(c, answer.data(), answer.size());
        ::close(c);
      }
    });
  }
  ~RawServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  int fd_ = -1, port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> received_;
};

TEST(ProbeHttp, PlainHttpAnswerToHttps) {
  RawServer server({"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"});
  auto r = httpGetAction(action(server.port(), "/ok"), "127.0.0.1", within(2s));
  EXPECT_TRUE(r.httpResponseToHttps);
  EXPECT_EQ(r.error, "Get \"https://127.0.0.1:" + std::to_string(server.port()) +
                         "/ok\": http: server gave HTTP response to HTTPS client");
}

TEST(ProbeHttp, ChunkedBody) {
  RawServer server(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"});
  json::object a{{"port", server.port()}, {"path", "/c"}};
  auto r = httpGetAction(a, "127.0.0.1", within(2s));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, "abcde");
}

HookTarget target() { return {&kRunc, "id", "app", "web_default(uid-1)", "127.0.0.1"}; }

TEST(ProbeHttp, HttpsLifecycleHook) {
  TlsServer server;
  json::object handler{{"httpGet", action(server.port(), "/fail")}};
  auto r = runLifecycleHook(handler, json::object{}, target(), 2s);
  EXPECT_TRUE(r.success) << r.message;  // any status: only a failed request fails a hook
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("user-agent"), std::string("kube-lifecycle/") + kKubeletMajorMinor);
}

TEST(ProbeHttp, HttpsHookAnsweredInHttpIsRetriedInHttp) {
  RawServer server({"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"});
  json::object handler{{"httpGet", action(server.port(), "/drain", R"(,"httpHeaders":[
      {"name":"Authorization","value":"Bearer secret"},{"name":"X-Kept","value":"1"}])")}};
  auto r = runLifecycleHook(handler, json::object{}, target(), 2s);
  EXPECT_TRUE(r.success) << r.message;
  EXPECT_EQ(r.warningReason, "LifecycleHTTPFallback");
  EXPECT_EQ(r.warningMessage,
            "request to HTTPS lifecycle hook 127.0.0.1:" + std::to_string(server.port()) +
                " got HTTP response, retry with HTTP succeeded");
  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].rfind("GET /drain HTTP/1.1\r\n", 0), 0u) << got[1];
  EXPECT_EQ(got[1].find("Authorization"), std::string::npos) << got[1];
  EXPECT_NE(got[1].find("X-Kept: 1\r\n"), std::string::npos) << got[1];
}

// The HTTP/2-only HTTPS server of testdata/h2_server.py (python3-h2), started for one test and
// killed by its pid. A client that does not negotiate h2 gets an HTTP/1.1 500 from it.
class H2Server {
 public:
  H2Server() {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-probe-h2-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    EXPECT_TRUE(http::ensurePki(dir_.string(), {"127.0.0.1"}).ok());
    auto paths = http::pkiPathsIn(dir_.string());
    std::string script = std::string(BERTH_SOURCE_DIR) + "/src/kubelet/testdata/h2_server.py";
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl("/usr/bin/python3", "python3", script.c_str(), paths.servingCert.c_str(),
              paths.servingKey.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    char ch;
    while (::poll(&p, 1, 10000) == 1 && ::read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
    ::close(out[0]);
    port_ = std::atoi(line.c_str());
  }
  ~H2Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int port() const { return port_; }

 private:
  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The request's header block as the server saw it (its /ok body), name → value.
std::map<std::string, std::string> h2HeadersSeen(const std::string& body) {
  std::map<std::string, std::string> seen;
  auto parsed = json::parse(body);
  for (const auto& pair : parsed.as_array())
    seen[std::string(pair.as_array()[0].as_string())] = pair.as_array()[1].as_string();
  return seen;
}

TEST(ProbeHttp2, SpeaksHttp2WhenTheServerPicksItInAlpn) {
  H2Server server;
  ASSERT_GT(server.port(), 0) << "testdata/h2_server.py did not start (python3-h2 missing?)";
  auto r = httpGetAction(action(server.port(), "/ok"), "127.0.0.1", within(5s));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200) << r.body;  // 500 "not HTTP/2" when HTTP/1.1 was spoken
  auto seen = h2HeadersSeen(r.body);
  EXPECT_EQ(seen[":method"], "GET");
  EXPECT_EQ(seen[":scheme"], "https");
  EXPECT_EQ(seen[":path"], "/ok");
  EXPECT_EQ(seen[":authority"], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen["user-agent"], std::string("kube-probe/") + kKubeletMajorMinor);
  EXPECT_EQ(seen["accept"], "*/*");
}

TEST(ProbeHttp2, HandlerHeadersInLowerCaseAndHostAsAuthority) {
  H2Server server;
  ASSERT_GT(server.port(), 0);
  auto r = httpGetAction(action(server.port(), "/ok", R"(,"httpHeaders":[
      {"name":"User-Agent","value":"mine"},{"name":"Accept","value":""},
      {"name":"X-Custom","value":"v"},{"name":"Connection","value":"close"},
      {"name":"Host","value":"web.example"}])"),
                         "127.0.0.1", within(5s));
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.status, 200) << r.body;
  auto seen = h2HeadersSeen(r.body);
  EXPECT_EQ(seen["user-agent"], "mine");
  EXPECT_EQ(seen.count("accept"), 0u);      // an empty Accept removes it
  EXPECT_EQ(seen.count("connection"), 0u);  // connection-specific: not allowed in HTTP/2
  EXPECT_EQ(seen["x-custom"], "v");
  EXPECT_EQ(seen[":authority"], "web.example");
  EXPECT_EQ(seen.count("host"), 0u);
}

TEST(ProbeHttp2, StatusRedirectsAndBodyLimitAsOverHttp1) {
  H2Server server;
  ASSERT_GT(server.port(), 0);
  auto probe = [&](const std::string& path) {
    return runProbe(json::object{{"httpGet", action(server.port(), path)}, {"timeoutSeconds", 5}},
                    kRunc, "id", "127.0.0.1");
  };
  auto down = probe("/fail");
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.message, "HTTP probe failed with statuscode: 503");
  auto moved = httpGetAction(action(server.port(), "/moved"), "127.0.0.1", within(5s));
  EXPECT_EQ(moved.error, "");
  EXPECT_EQ(moved.status, 200);
  EXPECT_EQ(moved.url, "https://127.0.0.1:" + std::to_string(server.port()) + "/ok");
  auto away = probe("/elsewhere");
  EXPECT_TRUE(away.success) << away.message;
  EXPECT_EQ(away.warning, "Probe terminated redirects, Response body: see other host");
  auto big = httpGetAction(action(server.port(), "/big"), "127.0.0.1", within(5s));
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.body, std::string(kMaxProbeBodyBytes, 'x'));
}

TEST(ProbeHttp2, ResetStreamAndTimeoutAreErrors) {
  H2Server server;
  ASSERT_GT(server.port(), 0);
  std::string base = "Get \"https://127.0.0.1:" + std::to_string(server.port());
  auto reset = httpGetAction(action(server.port(), "/reset"), "127.0.0.1", within(5s));
  EXPECT_EQ(reset.error,
            base + "/reset\": stream error: stream ID 1; PROTOCOL_ERROR; received from peer");
  auto slow = httpGetAction(action(server.port(), "/slow"), "127.0.0.1", within(300ms));
  EXPECT_EQ(slow.error, base +
                            "/slow\": context deadline exceeded (Client.Timeout exceeded "
                            "while awaiting headers)");
}

TEST(ProbeHttp, TcpDialErrorsReadAsGos) {
  RawServer server({});  // listens, accepts nothing after the first connection is refused
  int closedPort = server.port();
  std::string error;
  int fd = dialTcp("127.0.0.1", closedPort, 500ms, error);
  if (fd >= 0) ::close(fd);  // the backlog accepts it: a listening port connects
  EXPECT_GE(fd, 0) << error;
  fd = dialTcp("127.0.0.1", 1, 500ms, error);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(error, "dial tcp 127.0.0.1:1: connect: connection refused");
}

}  // namespace
}  // namespace berth::kubelet
