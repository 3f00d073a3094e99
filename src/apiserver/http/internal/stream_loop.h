#pragma once
// The stream loop: one thread with an epoll set that carries every detached response stream
// (ResponseWriter::detachStream, e.g. an idle watch) without a thread per stream. For each
// stream it keeps a small outbox of encoded chunk bytes, asks the stream's StreamSource for more
// when woken, at the source's wakeAt() or after the outbox drained (kMore), and writes with
// non-blocking I/O (plain send or SSL_write: partial writes, WANT_READ/WANT_WRITE). It ends a
// stream when the source says kEnd (the last chunk goes out, then the connection is handed back
// for keep-alive), when the client hangs up (EPOLLRDHUP, EOF, a TLS close_notify, or any bytes
// it sends: nothing may follow a request whose response is still streaming), when the client
// takes no bytes for writeTimeout (a slow watcher is closed, as upstream closes one that
// cannot keep up), or when the loop stops.
//
// Back-pressure: produce() runs only while the outbox holds less than kLowWater bytes, so a
// client that reads slowly leaves its backlog in the source (a watch's CacheWatcher queue,
// bounded: it closes on overflow) rather than in encoded bytes here. An outbox that still grows
// past kMaxOutbox (a source that ignores this) closes the stream.
//
// Thread-safety: prepare(), adopt() and StreamWaker::wake() from any thread; stop() once, from
// the owner. Sources and `done` callbacks run on the loop thread (or on stop()'s caller).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/http/server.h"

typedef struct ssl_st SSL;

namespace berth::apiserver::http::internal {

// The connection under a detached stream: non-blocking reads and writes on its socket.
class StreamTransport {
 public:
  enum class Io { kOk, kWantRead, kWantWrite, kClosed };
  virtual ~StreamTransport() = default;
  virtual int fd() const = 0;
  // Writes up to `size` bytes (*written: how many went). After kWantRead/kWantWrite the next
  // call must offer the same bytes again (OpenSSL's rule).
  virtual Io write(const char* data, size_t size, size_t* written) = 0;
  // Consumes what the client sent. kOk/kWantRead/kWantWrite: nothing that ends the stream;
  // kClosed: EOF, an error, a TLS close_notify, or application bytes (see above).
  virtual Io read() = 0;
  // Before the connection is used for blocking request/response I/O again.
  virtual void release() {}
};

// Plain TCP; `fd` stays owned by the caller.
std::unique_ptr<StreamTransport> plainTransport(int fd);
// TLS over `fd` with the connection's established `ssl` session (owned by the caller).
std::unique_ptr<StreamTransport> tlsTransport(int fd, SSL* ssl);

class StreamLoop {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kLowWater = 64 * 1024;
  static constexpr size_t kMaxOutbox = 8 * 1024 * 1024;

  class Stream;  // a StreamWaker
  // Called once when a stream is over: `reusable` when its response ended cleanly (last chunk
  // sent, keep-alive allowed, loop not stopping); the transport has been released then.
  using Done = std::function<void(bool reusable)>;

  // writeTimeout: a stream whose client takes no bytes for this long is closed (0 = never).
  explicit StreamLoop(std::chrono::milliseconds writeTimeout);
  ~StreamLoop();
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  bool start();
  // Ends every stream (closed(), then done(false)) and the thread.
  void stop();

  // A stream for `source`, not yet running: its waker may be handed out (wakes are kept).
  // `keepAlive`: the connection may carry another request after the response ends.
  std::shared_ptr<Stream> prepare(std::shared_ptr<StreamSource> source, bool keepAlive);
  static std::shared_ptr<StreamWaker> waker(std::shared_ptr<Stream> stream);
  // Runs `stream` over `transport`; the first produce() follows at once. After stop(), ends it
  // at once on the caller's thread.
  void adopt(std::shared_ptr<Stream> stream, std::unique_ptr<StreamTransport> transport, Done done);
  size_t streams() const;

 private:
  friend class Stream;
  void run();
  void wakeLoop();
  void queueReady(std::shared_ptr<Stream> stream);
  void adoptIncoming();
  void process(Stream& s, Clock::time_point now);
  void flush(Stream& s, Clock::time_point now);
  void schedule(Stream& s);
  void finish(Stream& s, bool reusable);

  const std::chrono::milliseconds writeTimeout_;
  int epollFd_ = -1;
  int wakeFd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::atomic<bool> wakePending_{false};

  mutable std::mutex mu_;
  bool stopped_ = false;                              // guarded by mu_: adopt() ends at once
  std::vector<std::shared_ptr<Stream>> incoming_;     // guarded by mu_
  std::vector<std::shared_ptr<Stream>> ready_;        // guarded by mu_
  std::set<std::shared_ptr<Stream>> live_;            // guarded by mu_ (written by the loop)
  std::multimap<Clock::time_point, Stream*> timers_;  // loop thread only
};

}  // namespace berth::apiserver::http::internal
