// Server: the listener, its accept thread and the connection threads (see server.h).
#include "apiserver/http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>
#include <utility>

#include "apiserver/http/internal/beast.h"  // Asio and Beast only through this header
#include "apiserver/http/internal/connection.h"
#include "apiserver/http/internal/tls.h"

namespace berth::apiserver::http {

using internal::tcp;
namespace net = internal::net;
namespace ssl = internal::ssl;

class Server::Impl {
 public:
  Impl(ServerConfig config, TokenAuthenticator tokens, Handler handler)
      : config_(std::move(config)),
        tokens_(std::move(tokens)),
        handler_(std::move(handler)),
        env_{config_, tokens_, handler_, stopping_},
        acceptor_(io_) {}

  ~Impl() { stop(); }

  core::Status start() {
    if (started_) return core::Status::internal("server already started");
    if (config_.tls) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      if (auto status = internal::configureServerTls(*tls_, config_); !status.ok()) return status;
    }
    boost::system::error_code ec;
    auto address = net::ip::make_address(config_.bindAddress, ec);
    if (ec) return core::Status::badRequest("invalid bind address " + config_.bindAddress);
    tcp::endpoint endpoint(address, config_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.close(ec);
      return core::Status::unavailable("cannot listen on " + config_.bindAddress + ":" +
                                       std::to_string(config_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint(ec).port();
    started_ = true;
    acceptThread_ = std::thread([this] { acceptLoop(); });
    return {};
  }

  void stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    // shutdown() on a listening socket makes a blocked accept() return (EINVAL) on Linux;
    // close() alone would not.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (acceptThread_.joinable()) acceptThread_.join();
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::list<Connection> connections;
    {
      std::lock_guard lock(mu_);
      for (auto& connection : connections_) {
        if (connection.socketOpen) ::shutdown(connection.socket.native_handle(), SHUT_RDWR);
      }
      connections.splice(connections.end(), connections_);
    }
    // Threads touch only their own Connection (and mu_), which stays alive until joined.
    for (auto& connection : connections) connection.thread.join();
  }

  uint16_t port() const { return port_; }

 private:
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    bool socketOpen = true;  // guarded by mu_: stop() may shutdown() the fd only while open
    std::atomic<bool> finished{false};
    std::thread thread;
  };

  void acceptLoop() {
    while (!stopping_.load()) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_.load()) break;
      if (ec) {
        // Out of descriptors or an aborted handshake: back off briefly rather than spin.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      std::lock_guard lock(mu_);
      reapFinishedLocked();
      Connection& connection = connections_.emplace_back(std::move(socket));
      connection.thread = std::thread([this, &connection] { runConnection(connection); });
    }
  }

  void runConnection(Connection& connection) {
    internal::serveConnection(env_, connection.socket, tls_.get());
    {
      std::lock_guard lock(mu_);
      connection.socketOpen = false;
      boost::system::error_code ec;
      connection.socket.close(ec);
    }
    connection.finished.store(true);
  }

  // Joins threads whose connection ended (they are past their last use of shared state).
  void reapFinishedLocked() {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->finished.load()) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const ServerConfig config_;
  const TokenAuthenticator tokens_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  const internal::ConnectionEnv env_;
  net::io_context io_;  // only owns the sockets; all I/O is synchronous
  tcp::acceptor acceptor_;
  std::unique_ptr<ssl::context> tls_;
  uint16_t port_ = 0;
  bool started_ = false;  // start()/stop() are called from the owner's thread
  bool stopped_ = false;
  std::thread acceptThread_;

  std::mutex mu_;
  std::list<Connection> connections_;  // guarded by mu_
};

Server::Server(ServerConfig config, TokenAuthenticator tokens, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(tokens), std::move(handler))) {}

Server::~Server() = default;

core::Status Server::start() { return impl_->start(); }

void Server::stop() { impl_->stop(); }

uint16_t Server::port() const { return impl_->port(); }

}  // namespace berth::apiserver::http
