// Lifecycle hooks without a container: httpGet (any HTTP status succeeds, only a failed request
// fails, named ports, headers), sleep bounded by the grace period or ended by a cancel,
// unsupported handlers. HTTPS hooks: probe_http_test.cpp. exec needs runc and is covered by
// tests/e2e/test_lifecycle_hooks.sh.
#include "kubelet/lifecycle_hooks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace json = boost::json;

namespace berth::kubelet {
namespace {

using namespace std::chrono_literals;

// Answers one request on 127.0.0.1 with `status` and keeps what it received.
class OneShotHttp {
 public:
  explicit OneShotHttp(int status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this, status] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[2048];
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n > 0) request_.assign(buf, static_cast<size_t>(n));
      std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
      (void)!::write(c, resp.data(), resp.size());
      ::close(c);
    });
  }
  ~OneShotHttp() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  int fd_ = -1, port_ = 0;
  std::thread thread_;
  std::string request_;
};

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nobody listens there any more
  return ntohs(a.sin_port);
}

const runtime::Runc kRunc("/nonexistent");
HookTarget target() { return {&kRunc, "id", "app", "web_default(uid-1)", "127.0.0.1"}; }

TEST(LifecycleHooks, HttpGetSucceedsOnAnyStatusAndSendsPathAndHeaders) {
  OneShotHttp server(500);
  json::object spec{
      {"ports", json::array{json::object{{"name", "admin"}, {"containerPort", server.port()}}}}};
  json::object handler{
      {"httpGet",
       {{"path", "/drain"},
        {"port", "admin"},
        {"httpHeaders", json::array{json::object{{"name", "X-Hook"}, {"value", "1"}}}}}}};
  auto r = runLifecycleHook(handler, spec, target(), 2s);
  EXPECT_TRUE(r.success) << r.message;
  std::string req = server.request();
  EXPECT_EQ(req.rfind("GET /drain HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("X-Hook: 1\r\n"), std::string::npos) << req;
}

TEST(LifecycleHooks, HttpGetFailsWhenTheRequestFails) {
  int port = freePort();
  json::object handler{{"httpGet", {{"path", "/x"}, {"port", port}}}};
  auto r = runLifecycleHook(handler, json::object{}, target(), 1s);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.message.rfind("HTTP lifecycle hook (/x) for Container \"app\" in Pod "
                            "\"web_default(uid-1)\" failed - error: Get \"http://127.0.0.1:" +
                                std::to_string(port) + "/x\": dial tcp",
                            0),
            0u)
      << r.message;
}

TEST(LifecycleHooks, SleepEndsAtTheTimeout) {
  json::object handler{{"sleep", {{"seconds", 30}}}};
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(runLifecycleHook(handler, json::object{}, target(), 200ms).success);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 5s);
}

TEST(LifecycleHooks, UnboundedSleepEndsWhenCancelled) {
  json::object handler{{"sleep", {{"seconds", 30}}}};
  auto start = std::chrono::steady_clock::now();
  auto r = runLifecycleHook(handler, json::object{}, target(), 0ms,
                            [&] { return std::chrono::steady_clock::now() - start > 300ms; });
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.message,
            "Sleep lifecycle hook (30) for Container \"app\" in Pod "
            "\"web_default(uid-1)\" failed - error: container terminated before sleep "
            "hook finished");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
}

TEST(LifecycleHooks, FindsHandlersAndContainerSpecs) {
  auto pod = json::parse(R"({"spec":{"initContainers":[{"name":"init"}],"containers":[
      {"name":"app","lifecycle":{"preStop":{"sleep":{"seconds":1}}}}]}})")
                 .as_object();
  const auto* app = containerSpecOf(pod, "app");
  ASSERT_NE(app, nullptr);
  EXPECT_NE(lifecycleHandler(*app, "preStop"), nullptr);
  EXPECT_EQ(lifecycleHandler(*app, "postStart"), nullptr);
  EXPECT_NE(containerSpecOf(pod, "init"), nullptr);
  EXPECT_EQ(containerSpecOf(pod, "missing"), nullptr);
}

TEST(LifecycleHooks, AHandlerWithoutAnActionFails) {
  auto r = runLifecycleHook(json::object{}, json::object{}, target(), 1s);
  EXPECT_FALSE(r.success);
  EXPECT_NE(r.message.find("Cannot run handler"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet
