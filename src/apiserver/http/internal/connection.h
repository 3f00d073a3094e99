#pragma once
// One HTTP/1.1 connection: optional TLS handshake, then read request → authenticate → handler →
// response, for as long as input is already buffered. A Connection outlives the worker that
// serves it: when it would have to wait for the client's next request, serve() returns kPark and
// the server's poller watches the socket (an idle connection holds no thread, only its fd and
// this object; OpenSSL drops its buffers while idle). When the socket turns readable, some
// worker calls serve() again.
//
// Thread-safety: serve() runs on one worker at a time (the server hands the object over through
// its poller, which orders the accesses). Another thread may call shutdownSocket() at any time
// to make every blocked read or write fail (server stop).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "apiserver/http/internal/stream_loop.h"
#include "apiserver/http/server.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace berth::apiserver::http::internal {

struct ConnectionEnv {
  const ServerConfig& config;
  const TokenAuthenticator& tokens;
  const Handler& handler;
  const std::atomic<bool>& stopping;  // set by Server::stop(): answer with Connection: close
  StreamLoop* streams = nullptr;      // where detached streams go (null: none can detach)
};

class Connection {
 public:
  // kStream: a handler detached its response stream; hand takeStream() to the stream loop,
  // which gives the connection back (park or close) when the stream is over.
  enum class Next { kPark, kClose, kStream };

  // Takes ownership of the connected socket `fd` (closed by the destructor). `tls` is null for
  // plain HTTP; `handshakeDeadline` bounds the TLS handshake (and, for the server, the wait for
  // the first byte).
  Connection(const ConnectionEnv& env, int fd, SSL_CTX* tls,
             std::chrono::steady_clock::time_point handshakeDeadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  // Serves what the client has sent. kPark: nothing is buffered, wait for the socket to turn
  // readable (then call again); kClose: the connection is done.
  Next serve();
  void shutdownSocket();
  // After kStream: the detached stream (a StreamLoop::Stream) and the socket's non-blocking
  // transport (plain or TLS). The connection must not be served again until the stream is over.
  std::shared_ptr<StreamLoop::Stream> takeStream();
  std::unique_ptr<StreamTransport> streamTransport();

 private:
  struct State;
  const int fd_;
  std::unique_ptr<State> state_;
};

}  // namespace berth::apiserver::http::internal
