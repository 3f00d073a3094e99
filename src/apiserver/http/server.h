#pragma once
// HTTP(S) front door of the API server: TLS termination, HTTP/1.1 parsing, authentication,
// then hands a transport-neutral Request to a Handler. Beast and Asio stay inside this folder's
// .cpp files; nothing above it includes them.
//
// Threading: a poller thread (epoll) accepts connections and watches every connection that is
// waiting for its client: before its first byte and between keep-alive requests. Such an idle
// connection costs its fd and a few hundred bytes, no thread. When one turns readable, a worker
// thread serves it (TLS handshake, then requests) until it would have to wait again; a handler
// runs on that worker and may block (logs -f and exec for minutes), which is why handlers are
// plain blocking code rather than callbacks. Workers come from an elastic pool: one per busy
// connection. A long stream that is mostly idle (a watch) need not hold its worker: after its
// first chunks the handler may detach it (ResponseWriter::detachStream); a stream loop thread
// then writes it with non-blocking I/O, ends it, and hands the connection back for keep-alive.
// start() returns once the socket listens; stop() closes the listener, shuts down every
// connection's socket (blocked reads and writes fail, clientConnected() turns false) and joins all
// threads, so a blocked handler must watch writeChunk()/clientConnected() to return. stop() is
// idempotent and is called by ~Server.
//
// Limits: at most maxConnections are open at once; beyond that the listener is not accepted
// from, so new connections wait in the kernel's accept backlog until one closes. A connection
// must finish its TLS handshake within handshakeTimeoutSeconds of being accepted, and one that
// sits between requests for idleTimeoutSeconds is closed. A request in progress (a watch, a
// log stream, an upgraded exec) is never subject to the idle timeout.
//
// Authentication: a client certificate verified against clientCaFile (CN → user, O → groups),
// else "Authorization: Bearer <token>" through the TokenAuthenticator (unknown token → 401
// Status, handler not called), else the handler sees an anonymous user.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::apiserver::http {

// Identity established by authentication. Empty name = anonymous.
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::string uid;
  std::map<std::string, std::vector<std::string>> extra;  // e.g. a token's pod binding
  bool anonymous() const { return name.empty(); }
};

struct Request {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // percent-decoded path, no query
  std::string rawTarget;                          // as received
  std::multimap<std::string, std::string> query;  // decoded; repeated keys kept
  std::map<std::string, std::string> headers;  // keys lower-cased; repeated values joined by ", "
  std::string body;
  UserInfo user;
  std::string remoteAddress;
  // Annotations the handling adds for the request's audit event (admission's, e.g.
  // PodSecurity's audit-violations); written to the audit log's `annotations`.
  std::map<std::string, std::string> auditAnnotations;

  // First value of a query parameter, or empty.
  std::string queryParam(std::string_view key) const;
  bool hasQueryParam(std::string_view key) const;
  // Header by lower-case name, or empty.
  std::string header(std::string_view lowerName) const;
  // An HTTP/1.1 Upgrade request (WebSocket, SPDY): "Connection: upgrade" plus an "Upgrade"
  // header. Answer it with ResponseWriter::switchProtocols() or with an ordinary error.
  bool isUpgrade() const;
};

// The byte stream of a connection after "101 Switching Protocols" (WebSocket and SPDY framing
// are built on it). Blocking; used only from the handler's thread. Bytes the client sent after
// the upgrade request are returned first. Closed when the handler returns or the server stops.
class RawStream {
 public:
  virtual ~RawStream() = default;
  // Reads at least one byte, at most `size`. Returns 0 at end of stream, on error or on stop.
  virtual size_t readSome(char* data, size_t size) = 0;
  // Writes everything (flushed). Returns false when the peer is gone.
  virtual bool writeAll(std::string_view data) = 0;
  // For handlers that multiplex the stream with other descriptors (exec, port-forward, a
  // proxy): poll pollFd() for POLLIN unless inputPending(), which says readSome() has bytes
  // without touching the socket (buffered after the upgrade request, or decrypted by TLS).
  // Reads and writes stay on the handler's thread: a TLS session is not safe for a reader and
  // a writer on two threads. -1 when there is no descriptor (test fakes).
  virtual int pollFd() { return -1; }
  virtual bool inputPending() { return false; }
};

// The rest of a chunked response, produced without a thread of its own (see
// ResponseWriter::detachStream): the server's stream loop asks it for chunks when it has been
// woken, when wakeAt() has come, or when the last chunk it produced has gone out and it said kMore.
// An idle watch costs its connection and this object, no thread.
//
// Thread-safety: the loop calls produce(), wakeAt() and closed() on its own thread, one call at
// a time per stream; whatever feeds the source calls StreamWaker::wake() from any thread.
class StreamSource {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Next {
    kIdle,  // nothing more until wake() or wakeAt()
    kMore,  // more is ready: call again once what is queued has mostly gone out
    kEnd,   // finish the response (the last chunk follows what was appended)
  };
  virtual ~StreamSource() = default;
  // Appends the next chunk's bytes to `out` (empty: nothing to send now).
  virtual Next produce(std::string& out, Clock::time_point now) = 0;
  // When produce() must run without a wake (a timeout, a bookmark); Clock::time_point::max()
  // for never. Asked after each produce().
  virtual Clock::time_point wakeAt() const = 0;
  // The stream is over: ended, the client went away or stopped reading, or the server is
  // stopping. Called exactly once, last; a source that registered itself with a feed
  // unregisters here.
  virtual void closed() {}
};

// Tells the stream loop that a detached source has something to produce. Safe from any thread,
// also after the stream has closed (then it does nothing).
class StreamWaker {
 public:
  virtual ~StreamWaker() = default;
  virtual void wake() = 0;
};

// `source`, with `onClosed` run after its closed(): lets a wrapper of the writer (metrics,
// audit) account for a request until its detached stream ends rather than until the handler
// returns.
std::shared_ptr<StreamSource> withCloseHook(std::shared_ptr<StreamSource> source,
                                            std::function<void()> onClosed);

// How a handler answers. Either send() once, or beginStream() then writeChunk()* then
// endStream(). Headers added before the first send/beginStream are included (Content-Length
// and Transfer-Encoding are the server's own and are dropped). If the handler returns without
// answering, the server sends a 500 Status; an open stream is ended for it.
// Used from the handler's thread only (not thread-safe); valid until the handler returns.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void addHeader(std::string_view name, std::string_view value) = 0;
  virtual void send(int status, std::string_view contentType, std::string_view body) = 0;
  // Starts a chunked response. Returns false when the client is gone.
  virtual bool beginStream(int status, std::string_view contentType) = 0;
  // Writes and flushes one chunk. Returns false when the client is gone (stop streaming).
  virtual bool writeChunk(std::string_view data) = 0;
  virtual void endStream() = 0;
  // True while the client connection is open and the server is not stopping (for long-polls
  // that have no data to write). Cheap: a non-blocking poll of the socket.
  virtual bool clientConnected() = 0;
  // For an upgrade request: writes "101 Switching Protocols" with the headers added so far
  // (the handler adds "Upgrade", "Connection" and e.g. "Sec-WebSocket-Accept") and hands over
  // the connection. Returns nullptr if a response was already started or the peer is gone.
  // The stream is owned by the writer and lives until the handler returns; the connection is
  // closed afterwards.
  // Not pure, so test fakes of ResponseWriter need not implement it.
  virtual RawStream* switchProtocols() { return nullptr; }
  // After beginStream() (and any chunks written so far): hands the rest of the response to the
  // server's stream loop, which writes what `source` produces without blocking a thread and
  // ends the response (last chunk) when it says kEnd. Returns the waker to give to whatever
  // feeds the source, or nullptr when the stream cannot be handed over (a HEAD request, client
  // bytes already buffered after this request, a writer without a loop such as a test fake or
  // a wrapper that does not forward it): the handler then streams on by itself. After success
  // the handler returns without touching the writer again; the loop calls `source` first once
  // the handler has returned, so a feed connected to the waker before returning loses nothing.
  virtual std::shared_ptr<StreamWaker> detachStream(std::shared_ptr<StreamSource> source) {
    (void)source;
    return nullptr;
  }
};

using Handler = std::function<void(Request&, ResponseWriter&)>;

// Maps a bearer token to a user; an empty name means the token is unknown (the server answers
// 401 without calling the handler). Called concurrently from connection threads. May be empty
// (no token authentication). Authenticated users, by token or client certificate, get the group
// "system:authenticated" added, as upstream's authenticator does.
using TokenAuthenticator = std::function<UserInfo(std::string_view token)>;

struct ServerConfig {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 6443;      // 0 = pick a free port; see Server::port()
  std::string certFile;      // PEM serving certificate (chain)
  std::string keyFile;       // PEM private key
  std::string clientCaFile;  // PEM CA for client certificates (CN → user, O → groups)
  bool tls = true;           // false only for tests
  size_t maxBodyBytes = 3 * 1024 * 1024;  // upstream's request size limit is 3 MiB
  // Go's http.Server as the API server configures it: IdleTimeout 90 s, which matches the
  // keep-alive timeout of http.DefaultTransport that client-go's transports derive from.
  int idleTimeoutSeconds = 90;  // a connection with no request for this long closes (0 = never)
  int handshakeTimeoutSeconds = 10;  // accept → TLS handshake done (plain HTTP: first byte)
  int writeTimeoutSeconds = 300;     // a client that takes no bytes for this long is gone
  size_t maxConnections = 10000;     // open connections, idle or busy; more wait in the backlog
  // After a response, how long a worker waits for the next request before handing the
  // connection to the poller (see Connection).
  int keepAliveLingerMs = 20;
};

class Server {
 public:
  Server(ServerConfig config, TokenAuthenticator tokens, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  core::Status start();
  void stop();
  uint16_t port() const;  // the bound port (after start)
  // Connections open now: idle (no thread) and busy (served by a worker).
  size_t openConnections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::apiserver::http
