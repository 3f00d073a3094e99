#pragma once
// For the DNS tests only: a small stub resolver (UDP or TCP to 127.0.0.1 or ::1, with this
// component's codec) and a fake upstream resolver on loopback whose answers the test controls.
// Tests never send a packet anywhere but 127.0.0.1.
#include <arpa/inet.h>
#include <poll.h>

#include <atomic>
#include <functional>
#include <thread>

#include "dns/message.h"
#include "dns/socket_util.h"

namespace berth::dns::testing {

inline std::optional<Message> query(int port, const std::string& name, uint16_t qtype,
                                    bool tcp = false, std::optional<Edns> edns = std::nullopt,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(3),
                                    const std::string& host = "127.0.0.1") {
  Message q;
  q.header.id = 0x1234;
  q.header.rd = true;
  q.questions.push_back({name, qtype, kClassIN});
  q.edns = edns;
  auto wire = encode(q);
  if (!wire.ok()) return std::nullopt;
  auto to = SocketAddress::fromLiteral(host, port);
  if (!to) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd fd(::socket(to->family(), (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  std::optional<std::string> reply;
  if (tcp) {
    if (!connectWithin(fd.get(), *to, timeout)) return std::nullopt;
    std::string framed{static_cast<char>(wire->size() >> 8), static_cast<char>(wire->size())};
    framed += *wire;
    if (!writeAll(fd.get(), framed, deadline)) return std::nullopt;
    reply = readFramed(fd.get(), deadline);
  } else {
    ::sendto(fd.get(), wire->data(), wire->size(), 0, to->addr(), to->length());
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::string buf(65535, '\0');
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n <= 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    reply = buf;
  }
  if (!reply) return std::nullopt;
  auto m = decode(*reply);
  if (!m.ok() || m->header.id != 0x1234) return std::nullopt;
  return *m;
}

inline std::string ipv4Text(const RData& d) {
  const auto* a = std::get_if<Ipv4>(&d);
  if (!a) return "";
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, a->data(), buf, sizeof buf);
  return buf;
}

// Answers A queries over UDP and TCP on 127.0.0.1 from `answer` (name → reply message built by
// the test; nullopt = stay silent). Counts the queries it saw.
class FakeUpstream {
 public:
  using Answer = std::function<std::optional<Message>(const Message& query, bool tcp)>;
  explicit FakeUpstream(Answer answer) : answer_(std::move(answer)) {
    auto any = SocketAddress::parse("127.0.0.1:0", 0);
    tcp_ = std::move(*bindSocket(*any, SOCK_STREAM, false, false, nullptr));
    SocketAddress bound = *any;
    socklen_t len = bound.length();
    ::getsockname(tcp_.get(), bound.mutableAddr(), &len);
    port_ = bound.port();
    udp_ = std::move(*bindSocket(bound, SOCK_DGRAM, false, false, nullptr));
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  int queries() const { return queries_.load(); }

 private:
  void loop() {
    while (!stop_) {
      pollfd p[2] = {{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents & POLLIN) {
        std::string buf(65535, '\0');
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0)
          if (auto r = reply(std::string_view(buf.data(), static_cast<size_t>(n)), false))
            ::sendto(udp_.get(), r->data(), r->size(), 0, reinterpret_cast<sockaddr*>(&from),
                     len);
      }
      if (p[1].revents & POLLIN) {
        UniqueFd c(::accept(tcp_.get(), nullptr, nullptr));
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        if (auto q = readFramed(c.get(), deadline))
          if (auto r = reply(*q, true)) {
            std::string framed{static_cast<char>(r->size() >> 8), static_cast<char>(r->size())};
            writeAll(c.get(), framed + *r, deadline);
          }
      }
    }
  }
  std::optional<std::string> reply(std::string_view wire, bool tcp) {
    ++queries_;
    auto q = decode(wire);
    if (!q.ok()) return std::nullopt;
    auto m = answer_(*q, tcp);
    if (!m) return std::nullopt;
    auto w = encode(*m);
    return w.ok() ? std::optional<std::string>(*w) : std::nullopt;
  }

  Answer answer_;
  UniqueFd udp_, tcp_;
  int port_ = 0;
  std::atomic<int> queries_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::dns::testing
