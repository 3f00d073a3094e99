#include "dns/forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "dns/message.h"
#include "dns/socket_util.h"

namespace berth::dns {

struct Forwarder::Upstream {
  SocketAddress address;
};

std::vector<std::string> resolvConfNameservers(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string key, value;
    if (ss >> key >> value && key == "nameserver") out.push_back(value);
  }
  return out;
}

namespace {

uint16_t randomId() {
  thread_local std::mt19937 rng(std::random_device{}());
  return static_cast<uint16_t>(rng());
}

// True when `reply` answers `query`: same id and the same first question (RFC 5452 §9.1).
bool matches(std::string_view reply, uint16_t id, const Message& query) {
  if (wireId(reply) != id) return false;
  auto m = decode(reply);
  if (!m.ok() || !m->header.qr) return false;
  if (query.questions.empty()) return m->questions.empty();
  if (m->questions.size() != 1) return false;
  const auto &a = query.questions[0], &b = m->questions[0];
  return a.qtype == b.qtype && a.qclass == b.qclass && lowerName(a.name) == lowerName(b.name);
}

core::Result<std::string> udpExchange(const SocketAddress& to, const std::string& query,
                                      uint16_t id, const Message& parsed,
                                      std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.ok() || ::connect(fd.get(), to.addr(), to.length()) != 0 ||
      ::send(fd.get(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size()))
    return core::Status::unavailable("cannot send to " + to.text());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buf(65535, '\0');
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return core::Status::timeout("no reply from " + to.text());
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n < 0) return core::Status::unavailable("receive from " + to.text() + " failed");
    std::string_view reply(buf.data(), static_cast<size_t>(n));
    if (matches(reply, id, parsed)) return std::string(reply);
    // Anything else (a stale or spoofed reply) is ignored; keep waiting.
  }
}

core::Result<std::string> tcpExchange(const SocketAddress& to, const std::string& query,
                                      uint16_t id, const Message& parsed,
                                      std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.ok()) return core::Status::unavailable("socket failed");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!connectWithin(fd.get(), to, timeout))
    return core::Status::unavailable("cannot connect to " + to.text());
  std::string framed;
  framed.push_back(static_cast<char>(query.size() >> 8));
  framed.push_back(static_cast<char>(query.size() & 0xFF));
  framed += query;
  if (!writeAll(fd.get(), framed, deadline))
    return core::Status::unavailable("cannot send to " + to.text());
  auto reply = readFramed(fd.get(), deadline);
  if (!reply || !matches(*reply, id, parsed))
    return core::Status::unavailable("no usable TCP reply from " + to.text());
  return std::move(*reply);
}

}  // namespace

Forwarder::Forwarder(ForwarderOptions options) : o_(std::move(options)) {
  std::vector<SocketAddress> excluded;
  for (const auto& e : o_.exclude)
    if (auto a = SocketAddress::parse(e, 53)) excluded.push_back(*a);
  for (const auto& u : o_.upstreams) {
    auto a = SocketAddress::parse(u, 53);
    if (!a) continue;
    bool self = false;
    for (const auto& e : excluded) self = self || e.sameAs(*a);
    if (!self) upstreams_.push_back({*a});
  }
  for (int i = 0; i < std::max(1, o_.workers); ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

Forwarder::~Forwarder() { stop(); }

size_t Forwarder::upstreamCount() const { return upstreams_.size(); }

core::Result<std::string> Forwarder::exchange(std::string_view query, bool tcpOnTruncation) const {
  auto parsed = decode(query);
  if (!parsed.ok()) return parsed.status();
  if (upstreams_.empty()) return core::Status::unavailable("no upstream resolvers");
  uint16_t clientId = wireId(query);
  core::Status last = core::Status::unavailable("no upstream answered");
  for (const auto& u : upstreams_) {
    std::string q(query);
    uint16_t id = randomId();
    setWireId(q, id);
    auto reply = udpExchange(u.address, q, id, *parsed, o_.timeout);
    if (reply.ok() && tcpOnTruncation && reply->size() > 2 && (static_cast<uint8_t>((*reply)[2]) & 0x02)) {
      reply = tcpExchange(u.address, q, id, *parsed, o_.timeout);
    }
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    setWireId(*reply, clientId);
    return reply;
  }
  return last;
}

bool Forwarder::submit(std::string query, bool tcpOnTruncation, Done done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= o_.maxQueued) return false;
    jobs_.push_back({std::move(query), tcpOnTruncation, std::move(done)});
  }
  cv_.notify_one();
  return true;
}

void Forwarder::workerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and the queue is drained
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job.done(exchange(job.query, job.tcp));
    lock.lock();
  }
}

void Forwarder::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

}  // namespace berth::dns
