#include "dns/server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <iostream>

namespace berth::dns {

namespace {

constexpr int kBatch = 32;
constexpr size_t kUdpBuffer = 4096;
constexpr int kPollMs = 200;  // how quickly loops notice stop()

// CoreDNS's monitored query types; everything else is "other".
constexpr uint16_t kTypes[] = {type::kA,   type::kAAAA, type::kNS,  type::kCNAME,
                               type::kSOA, type::kPTR,  type::kTXT, type::kSRV,
                               15 /*MX*/,  type::kANY,  65 /*HTTPS*/};
constexpr const char* kTypeNames[] = {"A",   "AAAA", "NS", "CNAME", "SOA",   "PTR",
                                      "TXT", "SRV",  "MX", "ANY",   "HTTPS", "other"};
constexpr int kTypeCount = sizeof kTypeNames / sizeof kTypeNames[0];

int typeIndex(uint16_t t) {
  for (int i = 0; i < kTypeCount - 1; ++i)
    if (kTypes[i] == t) return i;
  return kTypeCount - 1;
}

const char* rcodeName(int rc) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rc >= 0 && rc < 11) return kNames[rc];
  return rc == 16 ? "BADVERS" : "RCODE";
}

enum Plugin { kKubernetes = 0, kForward = 1, kNone = 2 };
constexpr const char* kPluginNames[] = {"kubernetes", "forward", ""};

// Upstream's plugin.TimeBuckets: prometheus.ExponentialBuckets(0.00025, 2, 16).
std::vector<double> timeBuckets() {
  std::vector<double> b;
  for (double v = 0.00025; b.size() < 16; v *= 2) b.push_back(v);
  return b;
}

// A child looked up once, then read without locks.
template <class T, class Make>
T& cached(std::atomic<T*>& slot, Make make) {
  T* p = slot.load(std::memory_order_acquire);
  if (!p) {
    p = &make();
    slot.store(p, std::memory_order_release);
  }
  return *p;
}

uint8_t wireRcode(std::string_view reply) {
  return reply.size() > 3 ? static_cast<uint8_t>(reply[3]) & 0xF : rcode::kServFail;
}

}  // namespace

struct Server::Metrics {
  explicit Metrics(metrics::Registry& r, std::string server)
      : server(std::move(server)),
        requests(r.counter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.",
                           {"server", "zone", "view", "proto", "family", "type"})),
        responses(r.counter("coredns_dns_responses_total", "Counter of response status codes.",
                            {"server", "zone", "view", "rcode", "plugin"})),
        duration(r.histogram("coredns_dns_request_duration_seconds",
                             "Histogram of the time (in seconds) each request took per zone.",
                             {"server", "zone", "view", "type"}, timeBuckets())) {}

  void request(Proto proto, int family, uint16_t qtype) {
    int p = proto == Proto::kUdp ? 0 : 1, f = family == AF_INET6 ? 1 : 0, t = typeIndex(qtype);
    cached(req[p][f][t], [&]() -> metrics::Counter& {
      return requests.with({server, ".", "", p == 0 ? "udp" : "tcp", f == 0 ? "1" : "2",
                            kTypeNames[t]});
    }).inc();
  }
  void response(uint8_t rc, int plugin, uint16_t qtype, double seconds) {
    cached(resp[plugin][rc & 0xF], [&]() -> metrics::Counter& {
      return responses.with({server, ".", "", rcodeName(rc & 0xF), kPluginNames[plugin]});
    }).inc();
    int t = typeIndex(qtype);
    cached(dur[t], [&]() -> metrics::Histogram& {
      return duration.with({server, ".", "", kTypeNames[t]});
    }).observe(seconds);
  }

  const std::string server;
  metrics::CounterFamily& requests;
  metrics::CounterFamily& responses;
  metrics::HistogramFamily& duration;
  std::atomic<metrics::Counter*> req[2][2][kTypeCount] = {};
  std::atomic<metrics::Counter*> resp[3][16] = {};
  std::atomic<metrics::Histogram*> dur[kTypeCount] = {};
};

struct Server::TcpConnection {
  UniqueFd fd;
  int family = AF_INET;
  std::thread thread;
  std::atomic<bool> done{false};
};

Server::Server(ServerOptions options, ZoneSource zone, Forwarder* forwarder,
               metrics::Registry& metrics)
    : o_(std::move(options)),
      zone_(std::move(zone)),
      forwarder_(forwarder),
      metrics_(std::make_unique<Metrics>(metrics, "dns://" + o_.listen)),
      registry_(metrics) {}

Server::~Server() { stop(); }

std::string Server::finish(std::string reply, uint8_t rc, int plugin,
                           std::chrono::steady_clock::time_point start, uint16_t qtype) {
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  metrics_->response(rc, plugin, qtype, took.count());
  return reply;
}

std::optional<std::string> Server::handle(std::string_view query, Proto proto,
                                          const std::function<Reply()>& deferred, int family) {
  auto start = std::chrono::steady_clock::now();
  auto m = decode(query);
  if (!m.ok()) {
    // Answer FORMERR to anything with a query header; ignore the rest (and responses).
    if (query.size() < 12 || (static_cast<uint8_t>(query[2]) & 0x80)) return std::nullopt;
    metrics_->request(proto, family, 0);
    Message r;
    r.header.id = wireId(query);
    r.header.qr = true;
    r.header.opcode = (static_cast<uint8_t>(query[2]) >> 3) & 0xF;
    r.header.rcode = rcode::kFormErr;
    auto wire = encode(r);
    return finish(wire.ok() ? *wire : std::string(), rcode::kFormErr, kNone, start, 0);
  }
  if (m->header.qr) return std::nullopt;
  uint16_t qtype = m->questions.empty() ? 0 : m->questions[0].qtype;
  metrics_->request(proto, family, qtype);
  size_t limit = proto == Proto::kUdp ? maxUdpReply(*m) : 65535;
  auto simple = [&](uint8_t rc) {
    Message r = replyTo(*m, rc);
    auto wire = encode(r, limit);
    return finish(wire.ok() ? *wire : std::string(), rc, kNone, start, qtype);
  };
  if (m->header.opcode != 0) return simple(rcode::kNotImp);
  if (m->questions.size() != 1) return simple(rcode::kFormErr);
  if (m->edns && m->edns->version > 0) {  // RFC 6891 §6.1.3: BADVERS (extended rcode 16)
    Message r = replyTo(*m, rcode::kNoError);
    r.edns->extendedRcode = 1;
    auto wire = encode(r, limit);
    return finish(wire.ok() ? *wire : std::string(), 16, kNone, start, qtype);
  }
  auto zone = zone_ ? zone_() : nullptr;
  Message reply = replyTo(*m, rcode::kNoError);
  if (zone && zone->answer(m->questions[0], reply)) {
    auto wire = encode(reply, limit);
    if (!wire.ok()) return simple(rcode::kServFail);
    return finish(std::move(*wire), reply.header.rcode, kKubernetes, start, qtype);
  }
  if (!forwarder_) return simple(rcode::kServFail);
  if (proto == Proto::kTcp) {
    auto r = forwarder_->exchange(query, true);
    if (!r.ok()) return simple(rcode::kServFail);
    uint8_t rc = wireRcode(*r);
    return finish(std::move(*r), rc, kForward, start, qtype);
  }
  // UDP: the forwarder's threads wait for the upstream; this thread goes on serving.
  Reply send = deferred();
  std::string servfail;
  if (auto w = encode(replyTo(*m, rcode::kServFail), limit); w.ok()) servfail = std::move(*w);
  bool queued = forwarder_->submit(
      std::string(query), false,
      [this, send, servfail, start, qtype](core::Result<std::string> r) {
        if (r.ok()) {
          uint8_t rc = wireRcode(*r);
          send(finish(std::move(*r), rc, kForward, start, qtype));
        } else {
          send(finish(servfail, rcode::kServFail, kForward, start, qtype));
        }
      });
  if (!queued) return simple(rcode::kServFail);
  return std::nullopt;
}

core::Status Server::start() {
  auto addr = SocketAddress::parse(o_.listen, 53);
  if (!addr) return core::Status::badRequest("DNS: bad listen address " + o_.listen);
  std::string error;
  auto tcp = bindSocket(*addr, SOCK_STREAM, false, o_.freeBind, &error);
  if (!tcp) return core::Status::unavailable("DNS: " + error);
  // Port 0: the TCP socket picked one; the UDP sockets take the same.
  SocketAddress bound = *addr;
  socklen_t len = bound.length();
  ::getsockname(tcp->get(), bound.mutableAddr(), &len);
  port_ = bound.port();
  tcp_.push_back(std::move(*tcp));
  for (int i = 0; i < std::max(1, o_.udpWorkers); ++i) {
    auto udp = bindSocket(bound, SOCK_DGRAM, true, o_.freeBind, &error);
    if (!udp) return core::Status::unavailable("DNS: " + error);
    timeval tv{0, kPollMs * 1000};
    ::setsockopt(udp->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    udp_.push_back(std::move(*udp));
  }
  for (const auto& host : o_.alsoListen)
    if (auto st = bindAlso(host, 1); !st.ok()) return st;
  if (!o_.metricsListen.empty()) {
    auto maddr = SocketAddress::parse(o_.metricsListen, 9153);
    if (!maddr) return core::Status::badRequest("DNS: bad metrics address " + o_.metricsListen);
    auto m = bindSocket(*maddr, SOCK_STREAM, false, o_.freeBind, &error);
    if (!m) return core::Status::unavailable("DNS metrics: " + error);
    SocketAddress mb = *maddr;
    socklen_t mlen = mb.length();
    ::getsockname(m->get(), mb.mutableAddr(), &mlen);
    metricsPort_ = mb.port();
    metricsFd_ = std::move(*m);
    threads_.emplace_back([this] { metricsLoop(); });
  }
  for (auto& fd : udp_) threads_.emplace_back([this, f = fd.get()] { udpLoop(f); });
  threads_.emplace_back([this] { tcpAcceptLoop(); });
  return {};
}

core::Status Server::bindAlso(const std::string& host, int udpWorkers) {
  auto addr = SocketAddress::fromLiteral(host, port_);
  if (!addr) return core::Status::badRequest("DNS: bad listen address " + host);
  std::string error;
  auto tcp = bindSocket(*addr, SOCK_STREAM, false, o_.freeBind, &error);
  if (!tcp) return core::Status::unavailable("DNS: " + error);
  tcp_.push_back(std::move(*tcp));
  for (int i = 0; i < udpWorkers; ++i) {
    auto udp = bindSocket(*addr, SOCK_DGRAM, true, o_.freeBind, &error);
    if (!udp) return core::Status::unavailable("DNS: " + error);
    timeval tv{0, kPollMs * 1000};
    ::setsockopt(udp->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    udp_.push_back(std::move(*udp));
  }
  return {};
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard lock(connMu_);
  for (auto& c : conns_) ::shutdown(c.fd.get(), SHUT_RDWR);
  for (auto& c : conns_)
    if (c.thread.joinable()) c.thread.join();
  conns_.clear();
}

void Server::udpLoop(int fd) {
  // Everything a batch needs is allocated here, once: each recvmmsg takes up to kBatch queries
  // and one sendmmsg returns their replies, so a query costs a fraction of two system calls
  // (expensive under gVisor) and, apart from the reply's encoding, no allocation.
  struct Slot {
    sockaddr_storage from;
    iovec iov;
    char buf[kUdpBuffer];
  };
  std::vector<Slot> in(kBatch);
  std::vector<mmsghdr> msgs(kBatch), out(kBatch);
  std::vector<iovec> outIov(kBatch);
  std::vector<std::string> replies(kBatch);
  // The deferred reply of slot i (a forwarded query): made once per slot, reading the slot's
  // sender when called, so handle() gets a ready std::function rather than a new one per query.
  std::vector<std::function<Reply()>> deferred;
  deferred.reserve(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    deferred.emplace_back([fd, slot = &in[i], msg = &msgs[i]]() -> Reply {
      auto to = SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&slot->from),
                                            msg->msg_hdr.msg_namelen);
      return [fd, to](std::string reply) {
        ::sendto(fd, reply.data(), reply.size(), 0, to.addr(), to.length());
      };
    });
  }
  while (!stopping_.load(std::memory_order_relaxed)) {
    for (int i = 0; i < kBatch; ++i) {
      in[i].iov = {in[i].buf, kUdpBuffer};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &in[i].from;
      msgs[i].msg_hdr.msg_namelen = sizeof in[i].from;
      msgs[i].msg_hdr.msg_iov = &in[i].iov;
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    int ready = 0;
    for (int i = 0; i < n; ++i) {
      auto reply = handle(std::string_view(in[i].buf, msgs[i].msg_len), Proto::kUdp,
                          deferred[i], in[i].from.ss_family);
      if (!reply || reply->empty()) continue;
      replies[ready] = std::move(*reply);
      outIov[ready] = {replies[ready].data(), replies[ready].size()};
      out[ready].msg_hdr = {};
      out[ready].msg_hdr.msg_name = &in[i].from;
      out[ready].msg_hdr.msg_namelen = msgs[i].msg_hdr.msg_namelen;
      out[ready].msg_hdr.msg_iov = &outIov[ready];
      out[ready].msg_hdr.msg_iovlen = 1;
      ++ready;
    }
    for (int sent = 0; sent < ready;) {
      int r = ::sendmmsg(fd, out.data() + sent, ready - sent, 0);
      if (r <= 0) break;  // a client gone away; drop the rest of this batch's replies
      sent += r;
    }
  }
}

void Server::tcpAcceptLoop() {
  while (!stopping_.load()) {
    std::vector<pollfd> polls;
    for (const auto& fd : tcp_) polls.push_back(pollfd{fd.get(), POLLIN, 0});
    int r = ::poll(polls.data(), polls.size(), kPollMs);
    {
      std::lock_guard lock(connMu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->done.load()) {
          it->thread.join();
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (r <= 0) continue;
    for (const auto& p : polls) {
      if (!(p.revents & POLLIN)) continue;
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      UniqueFd fd(::accept4(p.fd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC));
      if (!fd.ok()) continue;
      std::lock_guard lock(connMu_);
      if (static_cast<int>(conns_.size()) >= o_.maxTcpConnections || stopping_.load()) continue;
      auto& c = conns_.emplace_back();
      c.fd = std::move(fd);
      c.family = from.ss_family;
      c.thread = std::thread([this, &c] { tcpConnection(&c); });
    }
  }
}

void Server::tcpConnection(TcpConnection* c) {
  const std::function<Reply()> never = [] { return Reply(); };
  while (!stopping_.load()) {
    auto msg = readFramed(c->fd.get(), std::chrono::steady_clock::now() + o_.tcpIdleTimeout);
    if (!msg) break;  // idle timeout, EOF or garbage framing
    auto reply = handle(*msg, Proto::kTcp, never, c->family);
    if (!reply || reply->empty()) continue;
    std::string framed;
    framed.reserve(reply->size() + 2);
    framed.push_back(static_cast<char>(reply->size() >> 8));
    framed.push_back(static_cast<char>(reply->size() & 0xFF));
    framed += *reply;
    if (!writeAll(c->fd.get(), framed, std::chrono::steady_clock::now() + o_.tcpIdleTimeout))
      break;
  }
  ::shutdown(c->fd.get(), SHUT_RDWR);
  c->done.store(true);
}

void Server::metricsLoop() {
  while (!stopping_.load()) {
    pollfd p{metricsFd_.get(), POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    UniqueFd fd(::accept4(metricsFd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.ok()) continue;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      pollfd q{fd.get(), POLLIN, 0};
      if (::poll(&q, 1, 100) <= 0) {
        if (std::chrono::steady_clock::now() > deadline) break;
        continue;
      }
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    std::string status = "404 Not Found", type = "text/plain", body = "404 page not found\n";
    if (request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?")) {
      status = "200 OK";
      type = std::string(metrics::kTextContentType);
      body = registry_.encode();
    } else if (request.starts_with("GET /health ")) {
      status = "200 OK";
      body = "OK";
    }
    std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                           "\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body;
    writeAll(fd.get(), response, std::chrono::steady_clock::now() + std::chrono::seconds(2));
  }
}

}  // namespace berth::dns
