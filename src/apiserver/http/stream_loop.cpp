// The stream loop for detached response streams (see internal/stream_loop.h).
#include "apiserver/http/internal/stream_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace berth::apiserver::http::internal {

using Clock = StreamLoop::Clock;
using Io = StreamTransport::Io;

namespace {

// One write offers at most this much: bounds a TLS write's retry and the time one stream keeps
// the loop from the others.
constexpr size_t kWriteSlice = 64 * 1024;
// produce() calls in a row for one stream before the others get a turn.
constexpr int kMaxRounds = 16;
// A drained outbox keeps this much capacity for the next event; beyond it the memory goes back.
constexpr size_t kKeepCapacity = 4 * 1024;

int millisecondsUntil(Clock::time_point when, Clock::time_point now) {
  if (when <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count() + 1;
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void appendChunk(std::string& out, const std::string& payload) {
  char size[24];
  int n = std::snprintf(size, sizeof(size), "%zx\r\n", payload.size());
  out.append(size, static_cast<size_t>(n));
  out += payload;
  out += "\r\n";
}

}  // namespace

class StreamLoop::Stream final : public StreamWaker, public std::enable_shared_from_this<Stream> {
 public:
  Stream(StreamLoop& loop, std::shared_ptr<StreamSource> source, bool keepAlive)
      : loop_(loop), source(std::move(source)), keepAlive(keepAlive) {}

  void wake() override {
    if (closed.load() || woken.exchange(true)) return;
    loop_.queueReady(shared_from_this());
  }

  size_t queued() const { return outbox.size() - sent; }

  StreamLoop& loop_;
  std::shared_ptr<StreamSource> source;
  const bool keepAlive;
  std::atomic<bool> woken{false};
  std::atomic<bool> closed{false};
  // Loop thread only (or adopt/stop before the loop has seen the stream):
  std::unique_ptr<StreamTransport> transport;
  Done done;
  bool adopted = false;
  bool wantProduce = true;  // produce() is owed a call (woken, kMore, or just adopted)
  bool ending = false;      // the last chunk is in the outbox
  std::string outbox;
  size_t sent = 0;                 // outbox bytes already written
  size_t retry = 0;                // length of a write OpenSSL wants repeated (0: none pending)
  bool blocked = false;            // the socket took no more: waiting for epoll
  uint32_t interest = 0;           // events registered with epoll
  Clock::time_point lastProgress;  // last time the client took bytes (or a wait began)
  bool hasTimer = false;
  std::multimap<Clock::time_point, Stream*>::iterator timer;
};

StreamLoop::StreamLoop(std::chrono::milliseconds writeTimeout) : writeTimeout_(writeTimeout) {}

StreamLoop::~StreamLoop() { stop(); }

bool StreamLoop::start() {
  epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the wake descriptor
  if (epollFd_ < 0 || wakeFd_ < 0 || ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &event) != 0) {
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void StreamLoop::stop() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.store(true);
  if (started_) {
    wakeLoop();
    thread_.join();
  }
  {
    std::lock_guard lock(mu_);
    streams.assign(live_.begin(), live_.end());
    streams.insert(streams.end(), incoming_.begin(), incoming_.end());
    incoming_.clear();
    ready_.clear();
  }
  for (auto& s : streams) finish(*s, false);
  timers_.clear();
  if (epollFd_ >= 0) ::close(epollFd_);
  if (wakeFd_ >= 0) ::close(wakeFd_);
  epollFd_ = wakeFd_ = -1;
}

std::shared_ptr<StreamLoop::Stream> StreamLoop::prepare(std::shared_ptr<StreamSource> source,
                                                        bool keepAlive) {
  return std::make_shared<Stream>(*this, std::move(source), keepAlive);
}

std::shared_ptr<StreamWaker> StreamLoop::waker(std::shared_ptr<Stream> stream) { return stream; }

void StreamLoop::adopt(std::shared_ptr<Stream> stream, std::unique_ptr<StreamTransport> transport,
                       Done done) {
  stream->transport = std::move(transport);
  stream->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      incoming_.push_back(std::move(stream));
      wakeLoop();
      return;
    }
  }
  finish(*stream, false);
}

size_t StreamLoop::streams() const {
  std::lock_guard lock(mu_);
  return live_.size() + incoming_.size();
}

void StreamLoop::wakeLoop() {
  if (wakePending_.exchange(true)) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeFd_, &one, sizeof(one));
}

void StreamLoop::queueReady(std::shared_ptr<Stream> stream) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  ready_.push_back(std::move(stream));
  wakeLoop();
}

void StreamLoop::run() {
  std::vector<epoll_event> events(256);
  while (!stopping_.load()) {
    int timeout = timers_.empty() ? -1 : millisecondsUntil(timers_.begin()->first, Clock::now());
    int n = ::epoll_wait(epollFd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) break;
    auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto* s = static_cast<Stream*>(events[i].data.ptr);
      if (s == nullptr) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wakeFd_, &count, sizeof(count));
        wakePending_.store(false);
        continue;
      }
      if (s->closed.load()) continue;
      uint32_t ev = events[i].events;
      if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        finish(*s, false);  // the client hung up: a watch ends when its client goes
        continue;
      }
      if ((ev & EPOLLIN) && s->transport->read() == Io::kClosed) {
        finish(*s, false);
        continue;
      }
      // Readable can also be what a write waiting for WANT_READ needed; writable clears a wait.
      if (s->blocked) process(*s, now);
    }
    if (stopping_.load()) break;
    adoptIncoming();
    std::vector<std::shared_ptr<Stream>> ready;
    {
      std::lock_guard lock(mu_);
      ready.swap(ready_);
    }
    now = Clock::now();
    for (auto& s : ready) {
      if (s->adopted && !s->closed.load()) process(*s, now);
    }
    while (!timers_.empty() && timers_.begin()->first <= now) {
      Stream* s = timers_.begin()->second;
      timers_.erase(timers_.begin());
      s->hasTimer = false;
      if (s->queued() > 0 && writeTimeout_.count() > 0 && now - s->lastProgress >= writeTimeout_) {
        finish(*s, false);  // took no bytes for the write timeout: too slow, or gone
        continue;
      }
      process(*s, now);
    }
  }
}

void StreamLoop::adoptIncoming() {
  std::vector<std::shared_ptr<Stream>> incoming;
  {
    std::lock_guard lock(mu_);
    incoming.swap(incoming_);
    for (auto& s : incoming) live_.insert(s);
  }
  auto now = Clock::now();
  for (auto& s : incoming) {
    s->adopted = true;
    s->interest = EPOLLIN | EPOLLRDHUP;
    epoll_event event{};
    event.events = s->interest;
    event.data.ptr = s.get();
    if (::epoll_ctl(epollFd_, EPOLL_CTL_ADD, s->transport->fd(), &event) != 0) {
      finish(*s, false);
      continue;
    }
    s->lastProgress = now;
    process(*s, now);
  }
}

// Writes what the outbox holds until done or the socket pushes back.
void StreamLoop::flush(Stream& s, Clock::time_point now) {
  s.blocked = false;
  while (s.queued() > 0) {
    size_t length = s.retry != 0 ? s.retry : std::min(s.queued(), kWriteSlice);
    size_t written = 0;
    Io io = s.transport->write(s.outbox.data() + s.sent, length, &written);
    if (io == Io::kClosed) {
      finish(s, false);
      return;
    }
    if (io != Io::kOk) {
      s.retry = length;
      s.blocked = true;
      uint32_t want = EPOLLIN | EPOLLRDHUP | (io == Io::kWantWrite ? EPOLLOUT : 0u);
      if (want != s.interest) {
        s.interest = want;
        epoll_event event{};
        event.events = want;
        event.data.ptr = &s;
        ::epoll_ctl(epollFd_, EPOLL_CTL_MOD, s.transport->fd(), &event);
      }
      return;
    }
    s.retry = 0;
    s.sent += written;
    s.lastProgress = now;
  }
  s.outbox.clear();
  s.sent = 0;
  if (s.outbox.capacity() > kKeepCapacity) s.outbox.shrink_to_fit();
  if (s.interest != (EPOLLIN | EPOLLRDHUP)) {
    s.interest = EPOLLIN | EPOLLRDHUP;
    epoll_event event{};
    event.events = s.interest;
    event.data.ptr = &s;
    ::epoll_ctl(epollFd_, EPOLL_CTL_MOD, s.transport->fd(), &event);
  }
}

void StreamLoop::process(Stream& s, Clock::time_point now) {
  if (s.woken.exchange(false)) s.wantProduce = true;
  std::string payload;
  for (int round = 0;; ++round) {
    flush(s, now);
    if (s.closed.load()) return;
    if (s.ending) {
      if (s.queued() == 0) {
        finish(s, s.keepAlive && !stopping_.load());
        return;
      }
      break;
    }
    bool due = s.wantProduce || s.source->wakeAt() <= now;
    if (!due || s.blocked || s.queued() >= kLowWater || round >= kMaxRounds) break;
    s.wantProduce = false;
    payload.clear();
    StreamSource::Next next = s.source->produce(payload, now);
    if (s.queued() == 0) s.lastProgress = now;  // the write timeout counts from here
    if (!payload.empty()) appendChunk(s.outbox, payload);
    if (next == StreamSource::Next::kEnd) {
      s.outbox += "0\r\n\r\n";
      s.ending = true;
    } else if (next == StreamSource::Next::kMore) {
      s.wantProduce = true;
    }
    if (s.queued() > kMaxOutbox) {
      finish(s, false);
      return;
    }
    if (payload.empty() && next == StreamSource::Next::kIdle) break;
  }
  schedule(s);
}

// The next time the loop must look at a stream on its own: the source's wakeAt(), at once for a
// source owed a produce() the socket could take, and the write timeout while bytes wait.
void StreamLoop::schedule(Stream& s) {
  Clock::time_point at = s.ending ? Clock::time_point::max() : s.source->wakeAt();
  if (s.wantProduce && !s.ending && !s.blocked && s.queued() < kLowWater) at = Clock::now();
  if (s.queued() > 0 && writeTimeout_.count() > 0)
    at = std::min(at, s.lastProgress + writeTimeout_);
  if (s.hasTimer) {
    if (s.timer->first == at) return;
    timers_.erase(s.timer);
    s.hasTimer = false;
  }
  if (at == Clock::time_point::max()) return;
  s.timer = timers_.emplace(at, &s);
  s.hasTimer = true;
}

void StreamLoop::finish(Stream& s, bool reusable) {
  if (s.closed.exchange(true)) return;
  auto self = s.shared_from_this();  // the stream lives until the end of this call
  if (s.hasTimer) {
    timers_.erase(s.timer);
    s.hasTimer = false;
  }
  if (s.transport) {
    if (s.adopted) ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, s.transport->fd(), nullptr);
    if (reusable) s.transport->release();
    s.transport.reset();
  }
  s.source->closed();
  s.source.reset();  // it may hold the last reference to what fed it
  s.outbox = std::string();
  Done done = std::move(s.done);
  {
    std::lock_guard lock(mu_);
    live_.erase(self);
  }
  if (done) done(reusable);
}

}  // namespace berth::apiserver::http::internal

namespace berth::apiserver::http {
namespace {

class HookedSource final : public StreamSource {
 public:
  HookedSource(std::shared_ptr<StreamSource> inner, std::function<void()> onClosed)
      : inner_(std::move(inner)), onClosed_(std::move(onClosed)) {}
  Next produce(std::string& out, Clock::time_point now) override {
    return inner_->produce(out, now);
  }
  Clock::time_point wakeAt() const override { return inner_->wakeAt(); }
  void closed() override {
    inner_->closed();
    if (onClosed_) onClosed_();
  }

 private:
  std::shared_ptr<StreamSource> inner_;
  std::function<void()> onClosed_;
};

}  // namespace

std::shared_ptr<StreamSource> withCloseHook(std::shared_ptr<StreamSource> source,
                                            std::function<void()> onClosed) {
  return std::make_shared<HookedSource>(std::move(source), std::move(onClosed));
}

}  // namespace berth::apiserver::http
