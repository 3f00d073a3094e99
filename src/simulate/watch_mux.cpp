#include "simulate/watch_mux.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include "simulate/watch_stream.h"

namespace berth::simulate {

namespace json = boost::json;
using core::Status;

struct WatchMux::Stream {
  Stream(std::unique_ptr<client::Watch> w, Handlers h)
      : watch(std::move(w)),
        handlers(std::make_shared<Handlers>(std::move(h))),
        decoder(watch->head().chunked) {}
  std::unique_ptr<client::Watch> watch;
  std::shared_ptr<Handlers> handlers;
  WatchStreamDecoder decoder;
};

WatchMux::WatchMux() = default;

WatchMux::~WatchMux() { stop(); }

Status WatchMux::start() {
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epollFd_ < 0 || wakeFd_ < 0)
    return Status::internal(std::string("watch multiplexer: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // ids start at 1
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  thread_ = std::thread([this] { loop(); });
  return {};
}

void WatchMux::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (wakeFd_ >= 0) {
    uint64_t one = 1;
    (void)::write(wakeFd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  streams_.clear();
  if (epollFd_ >= 0) ::close(epollFd_);
  if (wakeFd_ >= 0) ::close(wakeFd_);
  epollFd_ = wakeFd_ = -1;
}

uint64_t WatchMux::add(std::unique_ptr<client::Watch> watch, Handlers handlers) {
  std::lock_guard lock(mu_);
  if (stopping_) return 0;
  uint64_t id = nextId_++;
  int fd = watch->connection().fd();
  streams_.emplace(id, std::make_unique<Stream>(std::move(watch), std::move(handlers)));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = id;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  // Bytes read together with the response head would never make the socket readable again.
  kicked_.push_back(id);
  uint64_t one = 1;
  (void)::write(wakeFd_, &one, sizeof one);
  return id;
}

void WatchMux::cancel(uint64_t id) {
  std::unique_ptr<Stream> gone;
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, it->second->watch->connection().fd(), nullptr);
  gone = std::move(it->second);
  streams_.erase(it);
}

size_t WatchMux::size() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

void WatchMux::loop() {
  epoll_event events[128];
  for (;;) {
    int n = epoll_wait(epollFd_, events, 128, -1);
    if (n < 0 && errno != EINTR) return;
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == 0) {
        uint64_t drained;
        (void)::read(wakeFd_, &drained, sizeof drained);
        std::lock_guard lock(mu_);
        if (stopping_) return;
        ids.insert(ids.end(), kicked_.begin(), kicked_.end());
        kicked_.clear();
      } else {
        ids.push_back(events[i].data.u64);
      }
    }
    for (uint64_t id : ids) service(id);
  }
}

void WatchMux::service(uint64_t id) {
  std::vector<std::string> lines;
  std::shared_ptr<Handlers> handlers;
  Status end;
  bool ended = false;
  std::unique_ptr<Stream> gone;  // destroyed (connection closed) outside the lock
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    Stream& s = *it->second;
    handlers = s.handlers;
    char buf[16384];
    for (;;) {
      auto got = s.watch->connection().readNonBlocking(buf, sizeof buf);
      if (!got.ok()) {
        ended = true;
        // A server closing a stream without its final chunk broke it; for an unchunked body
        // the close is the end.
        if (got.status().reason() != "ConnectionClosed" || s.decoder.ended() ||
            s.watch->head().chunked)
          end = got.status();
        break;
      }
      if (*got == 0) break;
      auto st = s.decoder.feed(std::string_view(buf, *got),
                               [&](std::string_view l) { lines.emplace_back(l); });
      if (!st.ok() || s.decoder.ended()) {
        ended = true;
        end = st;
        break;
      }
    }
    if (ended) {
      epoll_ctl(epollFd_, EPOLL_CTL_DEL, s.watch->connection().fd(), nullptr);
      gone = std::move(it->second);
      streams_.erase(it);
    }
  }
  for (const auto& line : lines) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    json::object* o = ec ? nullptr : v.if_object();
    json::value* type = o ? o->if_contains("type") : nullptr;
    if (!type || !type->is_string()) {
      if (!ended) cancel(id);
      handlers->onEnd(Status::internal("malformed watch event: " + line.substr(0, 120)));
      return;
    }
    client::WatchEvent ev;
    ev.type = std::string(type->as_string());
    if (auto* obj = o->if_contains("object")) ev.object = std::move(*obj);
    handlers->onEvent(std::move(ev));
  }
  if (ended) handlers->onEnd(end);
}

}  // namespace berth::simulate
