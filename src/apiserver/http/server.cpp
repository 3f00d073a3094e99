// Server: the listener, the poller that holds idle connections and the worker pool that serves
// busy ones (see server.h).
#include "apiserver/http/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "apiserver/http/internal/beast.h"  // Asio and Beast only through this header
#include "apiserver/http/internal/connection.h"
#include "apiserver/http/internal/stream_loop.h"
#include "apiserver/http/internal/tls.h"
#include "apiserver/http/internal/worker_pool.h"

namespace berth::apiserver::http {

using internal::tcp;
namespace net = internal::net;
namespace ssl = internal::ssl;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kKeepIdleWorkers = 8;
constexpr auto kWorkerIdleExit = std::chrono::seconds(30);
// Out of descriptors: how long the listener rests before accepting again.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

int millisecondsUntil(Clock::time_point when, Clock::time_point now) {
  if (when <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count() + 1;
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerConfig config, TokenAuthenticator tokens, Handler handler)
      : config_(std::move(config)),
        tokens_(std::move(tokens)),
        handler_(std::move(handler)),
        env_{config_, tokens_, handler_, stopping_, &streams_},
        acceptor_(io_),
        streams_(std::chrono::seconds(std::max(0, config_.writeTimeoutSeconds))),
        pool_(kKeepIdleWorkers, kWorkerIdleExit) {}

  ~Impl() { stop(); }

  core::Status start() {
    if (started_) return core::Status::internal("server already started");
    // Writes to a peer that has gone must fail with EPIPE, not kill the process (OpenSSL writes
    // with write(2), which cannot ask for MSG_NOSIGNAL). Go's runtime does the same.
    std::signal(SIGPIPE, SIG_IGN);
    if (config_.tls) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      if (auto status = internal::configureServerTls(*tls_, config_); !status.ok()) return status;
    }
    boost::system::error_code ec;
    auto address = net::ip::make_address(config_.bindAddress, ec);
    if (ec) return core::Status::badRequest("invalid bind address " + config_.bindAddress);
    tcp::endpoint endpoint(address, config_.port);
    acceptor_.open(endpoint.protocol(), ec);
    // Asio opens sockets without SOCK_CLOEXEC: without this every process the server starts
    // (container shims, nginx) would inherit the listening socket and hold the port after the
    // server exits, so a restart could not bind it.
    if (!ec && ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) acceptor_.native_non_blocking(true, ec);
    if (ec) {
      std::string why = ec.message();  // before close() reuses ec
      acceptor_.close(ec);
      return core::Status::unavailable("cannot listen on " + config_.bindAddress + ":" +
                                       std::to_string(config_.port) + ": " + why);
    }
    port_ = acceptor_.local_endpoint(ec).port();
    epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epollFd_ < 0 || wakeFd_ < 0 || !watchFd(wakeFd_, &wakeTag_) ||
        !watchFd(acceptor_.native_handle(), &listenTag_)) {
      closePollerFds();
      acceptor_.close(ec);
      return core::Status::internal("cannot set up the connection poller");
    }
    if (!streams_.start()) {
      closePollerFds();
      acceptor_.close(ec);
      return core::Status::internal("cannot set up the stream loop");
    }
    listenerArmed_ = true;
    started_ = true;
    poller_ = std::thread([this] { pollLoop(); });
    return {};
  }

  void stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    wake();
    poller_.join();
    // Detached streams end here (their connections close); a worker detaching one from now on
    // has it ended at once.
    streams_.stop();
    boost::system::error_code ec;
    acceptor_.close(ec);
    {
      std::lock_guard lock(mu_);
      // Idle connections just close; busy ones get their socket shut down so that whatever
      // their worker is blocked on fails, and the worker closes them on its way out.
      for (auto it = slots_.begin(); it != slots_.end();) {
        if (it->busy) {
          it->connection->shutdownSocket();
          ++it;
        } else {
          it = slots_.erase(it);
        }
      }
      parked_.clear();
      open_.store(slots_.size());
      deadlines_.clear();
    }
    pool_.stop();
    {
      std::lock_guard lock(mu_);
      slots_.clear();
      open_.store(0);
    }
    closePollerFds();
  }

  uint16_t port() const { return port_; }
  size_t openConnections() const { return open_.load(); }

 private:
  struct Slot {
    std::unique_ptr<internal::Connection> connection;
    std::list<Slot>::iterator self;
    bool busy = false;               // guarded by mu_: a worker owns the connection
    Clock::time_point idleDeadline;  // set by whoever parks it; read by the poller
    bool inEpoll = false;            // poller only
    bool hasDeadline = false;        // poller only
    std::multimap<Clock::time_point, Slot*>::iterator deadline;  // poller only
  };

  bool watchFd(int fd, void* tag) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = tag;
    return ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &event) == 0;
  }

  void closePollerFds() {
    if (epollFd_ >= 0) ::close(epollFd_);
    if (wakeFd_ >= 0) ::close(wakeFd_);
    epollFd_ = wakeFd_ = -1;
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakeFd_, &one, sizeof(one));
  }

  // --- poller thread ---

  void pollLoop() {
    std::vector<epoll_event> events(256);
    while (!stopping_.load()) {
      int n =
          ::epoll_wait(epollFd_, events.data(), static_cast<int>(events.size()), nextTimeoutMs());
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &wakeTag_) {
          uint64_t count;
          [[maybe_unused]] ssize_t r = ::read(wakeFd_, &count, sizeof(count));
        } else if (tag == &listenTag_) {
          acceptReady();
        } else {
          dispatch(static_cast<Slot*>(tag));
        }
      }
      if (stopping_.load()) break;
      adoptParked();
      expireIdle(Clock::now());
      rearmListener();
    }
  }

  int nextTimeoutMs() {
    auto now = Clock::now();
    int timeout = -1;
    if (!deadlines_.empty()) timeout = millisecondsUntil(deadlines_.begin()->first, now);
    if (!listenerArmed_ && acceptRetryAt_ > now) {
      int retry = millisecondsUntil(acceptRetryAt_, now);
      timeout = timeout < 0 ? retry : std::min(timeout, retry);
    }
    return timeout;
  }

  void acceptReady() {
    int listenFd = acceptor_.native_handle();
    for (;;) {
      if (open_.load() >= config_.maxConnections) {
        pauseListener(Clock::time_point{});  // resumes when a connection closes
        return;
      }
      int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          pauseListener(Clock::now() + kAcceptBackoff);
        }
        return;  // EAGAIN: the backlog is empty
      }
      auto now = Clock::now();
      auto handshakeDeadline = now + std::chrono::seconds(config_.handshakeTimeoutSeconds);
      Slot* slot;
      {
        std::lock_guard lock(mu_);
        slot = &slots_.emplace_back();
        slot->self = std::prev(slots_.end());
        slot->connection = std::make_unique<internal::Connection>(
            env_, fd, tls_ ? tls_->native_handle() : nullptr, handshakeDeadline);
        open_.store(slots_.size());
      }
      // Until the handshake is done, the handshake deadline is the only one that applies.
      slot->idleDeadline = handshakeDeadline;
      watchIdle(slot);
    }
  }

  void pauseListener(Clock::time_point retryAt) {
    if (listenerArmed_) {
      ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, acceptor_.native_handle(), nullptr);
      listenerArmed_ = false;
      listenerPaused_.store(true);
    }
    acceptRetryAt_ = retryAt;
  }

  void rearmListener() {
    if (listenerArmed_ || open_.load() >= config_.maxConnections) return;
    if (acceptRetryAt_ > Clock::now()) return;
    listenerPaused_.store(false);
    listenerArmed_ = watchFd(acceptor_.native_handle(), &listenTag_);
  }

  // Hands a slot to the poller: readable → a worker serves it; deadline passed → closed.
  void watchIdle(Slot* slot) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    event.data.ptr = slot;
    int op = slot->inEpoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epollFd_, op, slot->connection->fd(), &event) != 0) {
      closeSlot(slot);
      return;
    }
    slot->inEpoll = true;
    if (slot->idleDeadline != Clock::time_point::max()) {
      slot->deadline = deadlines_.emplace(slot->idleDeadline, slot);
      slot->hasDeadline = true;
    }
  }

  void dropDeadline(Slot* slot) {
    if (!slot->hasDeadline) return;
    deadlines_.erase(slot->deadline);
    slot->hasDeadline = false;
  }

  void dispatch(Slot* slot) {
    dropDeadline(slot);
    {
      std::lock_guard lock(mu_);
      slot->busy = true;
    }
    pool_.submit([this, slot] { serve(slot); });
  }

  void adoptParked() {
    std::vector<Slot*> parked;
    {
      std::lock_guard lock(mu_);
      parked.swap(parked_);
    }
    for (Slot* slot : parked) watchIdle(slot);
  }

  void expireIdle(Clock::time_point now) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      Slot* slot = deadlines_.begin()->second;
      dropDeadline(slot);
      closeSlot(slot);
    }
  }

  // --- worker threads ---

  void serve(Slot* slot) {
    internal::Connection::Next next = slot->connection->serve();
    if (next == internal::Connection::Next::kStream) {
      // The slot stays busy while the stream loop writes the response; it comes back here.
      streams_.adopt(slot->connection->takeStream(), slot->connection->streamTransport(),
                     [this, slot](bool reusable) { release(slot, reusable); });
      return;
    }
    release(slot, next == internal::Connection::Next::kPark);
  }

  // A connection done with its current work: parked for its next request, or closed.
  void release(Slot* slot, bool park) {
    if (park) {
      std::lock_guard lock(mu_);
      if (!stopping_.load()) {
        slot->busy = false;
        slot->idleDeadline = config_.idleTimeoutSeconds > 0
                                 ? Clock::now() + std::chrono::seconds(config_.idleTimeoutSeconds)
                                 : Clock::time_point::max();
        parked_.push_back(slot);
        wake();
        return;
      }
    }
    closeSlot(slot);
  }

  // Any thread; the slot is not in use elsewhere (busy and ours, or idle and the poller's).
  void closeSlot(Slot* slot) {
    {
      std::lock_guard lock(mu_);
      slots_.erase(slot->self);  // closes the socket (and leaves epoll with it)
      open_.store(slots_.size());
    }
    if (listenerPaused_.load()) wake();
  }

  const ServerConfig config_;
  const TokenAuthenticator tokens_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  const internal::ConnectionEnv env_;
  net::io_context io_;  // only owns the listening socket; connections are plain fds
  tcp::acceptor acceptor_;
  internal::StreamLoop streams_;  // detached response streams (idle watches): no thread each
  std::unique_ptr<ssl::context> tls_;
  uint16_t port_ = 0;
  bool started_ = false;  // start()/stop() are called from the owner's thread
  bool stopped_ = false;
  internal::WorkerPool pool_;

  int epollFd_ = -1;
  int wakeFd_ = -1;
  char wakeTag_ = 0, listenTag_ = 0;  // epoll tags that are not slots
  std::thread poller_;
  // Poller only:
  std::multimap<Clock::time_point, Slot*> deadlines_;
  bool listenerArmed_ = false;
  Clock::time_point acceptRetryAt_;
  std::atomic<bool> listenerPaused_{false};  // workers wake the poller when a slot frees up

  mutable std::mutex mu_;
  std::list<Slot> slots_;        // guarded by mu_: every open connection
  std::vector<Slot*> parked_;    // guarded by mu_: served, waiting for the poller to watch them
  std::atomic<size_t> open_{0};  // slots_.size(), readable without the lock
};

Server::Server(ServerConfig config, TokenAuthenticator tokens, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(tokens), std::move(handler))) {}

Server::~Server() = default;

core::Status Server::start() { return impl_->start(); }

void Server::stop() { impl_->stop(); }

uint16_t Server::port() const { return impl_->port(); }

size_t Server::openConnections() const { return impl_->openConnections(); }

}  // namespace berth::apiserver::http
