#include "proxy/proxy_healthz.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "proxy/http_reply.h"

namespace berth::proxy {

namespace {

// Go's time.Time String() form, which upstream prints with %q: "2006-01-02 15:04:05.999999999
// +0000 UTC" (trailing zeros of the fraction dropped).
std::string goTime(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (frac) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09ld", frac);
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + " +0000 UTC";
}

}  // namespace

core::Result<std::pair<std::string, int>> parseBindAddress(const std::string& value) {
  auto bad = [&] {
    return core::Status::badRequest("--healthz-bind-address: invalid value \"" + value +
                                    "\": want IP:port (0.0.0.0:10256, [::]:10256)");
  };
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon + 1 == value.size()) return bad();
  std::string host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return bad();  // an IPv6 address needs brackets
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  for (char c : value.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad();
  // The host must be an IP literal; listenTcp checks that when binding, this checks it early.
  if (host.find_first_not_of("0123456789.:abcdefABCDEF") != std::string::npos) return bad();
  return std::make_pair(host, port);
}

std::string proxyHealthzResponse(const std::string& path, const ProxyHealth& health,
                                 std::chrono::system_clock::time_point now) {
  if (path != "/healthz" && path != "/livez") return jsonResponse(404, "404 page not found\n");
  // As upstream: a healthy proxy reports lastUpdated = now (older releases reported the last
  // sync-loop run, which was recent whenever the proxy was healthy).
  auto last = health.healthy ? now : health.lastUpdated;
  std::string body = "{\"lastUpdated\": \"" + goTime(last) + "\",\"currentTime\": \"" +
                     goTime(now) + "\", \"nodeEligible\": true}";
  return jsonResponse(health.healthy ? 200 : 503, body);
}

ProxyHealthzServer::ProxyHealthzServer(std::string bindAddress, std::function<ProxyHealth()> health)
    : bindAddress_(std::move(bindAddress)), health_(std::move(health)) {}

ProxyHealthzServer::~ProxyHealthzServer() { stop(); }

core::Status ProxyHealthzServer::start() {
  auto parsed = parseBindAddress(bindAddress_);
  if (!parsed.ok()) return parsed.status();
  std::string error;
  fd_ = listenTcp(parsed->first, parsed->second, error);
  if (fd_ < 0)
    return core::Status::unavailable("proxy healthz: cannot listen on " + bindAddress_ + ": " +
                                     error);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    return core::Status::internal("proxy healthz: pipe failed");
  thread_ = std::thread([this] { loop(); });
  return {};
}

void ProxyHealthzServer::stop() {
  if (thread_.joinable()) {
    char c = 1;
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
  }
  for (int* fd : {&fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void ProxyHealthzServer::loop() {
  while (true) {
    pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd_, POLLIN, 0}};
    if (::poll(fds, 2, 1000) <= 0) continue;
    if (fds[0].revents) return;
    if (!(fds[1].revents & POLLIN)) continue;
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    std::string path = requestPath(readRequestHead(conn));
    writeAll(conn, proxyHealthzResponse(path, health_(), std::chrono::system_clock::now()));
    ::close(conn);
  }
}

}  // namespace berth::proxy
