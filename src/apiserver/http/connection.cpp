// The per-connection HTTP/1.1 loop and the ResponseWriter over Beast (see internal/connection.h).
#include "apiserver/http/internal/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/http/internal/beast.h"  // Asio and Beast only through this header
#include "apiserver/http/internal/target.h"
#include "apiserver/http/internal/timed_socket.h"
#include "apiserver/http/internal/tls.h"
#include "apiserver/http/internal/tls_stream.h"
#include "core/status.h"

namespace berth::apiserver::http::internal {
namespace {

constexpr size_t kHeaderLimit = 1 << 20;  // Go's http.DefaultMaxHeaderBytes
constexpr int kDrainTimeoutMs = 1'000;
constexpr const char* kAuthenticatedGroup = "system:authenticated";

enum class Readiness { kReadable, kTimeout, kClosed };

// Waits until `fd` has something to read (data, EOF or error). A ::shutdown() from stop()
// makes it readable at once.
Readiness waitReadable(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeoutMs);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Readiness::kClosed;
    if (r == 0) return Readiness::kTimeout;
    if (p.revents & (POLLERR | POLLNVAL)) return Readiness::kClosed;
    return Readiness::kReadable;
  }
}

// Non-blocking: has the peer closed (or reset) the connection? Pending data (a pipelined
// request, a TLS alert) leaves the answer at "still there".
bool peerGone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  if (r < 0) return errno != EINTR;
  if (r == 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
  return false;
}

std::string lowerAscii(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool safeHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c == ':' || c == 127) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  std::string lower = lowerAscii(name);
  // Framing is ours: the writer decides length and encoding.
  return lower != "content-length" && lower != "transfer-encoding";
}

const beast::error_category& httpErrorCategory() {
  static const beast::error_category& category =
      bhttp::make_error_code(bhttp::error::end_of_stream).category();
  return category;
}

template <class Stream>
class Session;

// The ResponseWriter handed to a handler; also the RawStream after an upgrade.
template <class Stream>
class Writer final : public ResponseWriter, public RawStream {
 public:
  enum class State { kIdle, kSent, kStreaming, kStreamEnded, kUpgraded, kDetached };

  Writer(Session<Stream>& session, bool keepAlive, bool head)
      : session_(session), keepAlive_(keepAlive), head_(head) {}

  State state() const { return state_; }
  bool broken() const { return broken_; }
  // Connection: close once the server is stopping, even for a request that began before.
  bool keepAlive() const { return keepAlive_ && !session_.stopping(); }

  void addHeader(std::string_view name, std::string_view value) override {
    if (state_ == State::kIdle && safeHeader(name, value)) {
      headers_.emplace_back(std::string(name), std::string(value));
    }
  }

  void send(int status, std::string_view contentType, std::string_view body) override {
    if (state_ != State::kIdle || broken_) return;
    state_ = State::kSent;
    if (status < 200 || status > 999) status = 500;
    // The body is written straight from the caller's buffer (span_body): a list of 10,000
    // objects is megabytes, and copying it cost a third of the list's server CPU.
    bhttp::response<bhttp::span_body<char const>> res;
    res.version(11);
    res.result(static_cast<unsigned>(status));
    if (!contentType.empty()) res.set(bhttp::field::content_type, contentType);
    for (auto& [name, value] : headers_) res.insert(name, value);
    if (status != 204 && status != 304)
      res.body() = beast::span<char const>(body.data(), body.size());
    res.prepare_payload();
    // Beast writes "Content-Length: 0" here; RFC 9110 forbids it on a 204, and on a 304 it
    // would describe the cached representation: client-go's HTTP cache copies it over the
    // cached entry's.
    if (status == 204 || status == 304) res.erase(bhttp::field::content_length);
    res.keep_alive(keepAlive());
    beast::error_code ec;
    bhttp::response_serializer<bhttp::span_body<char const>> serializer(res);
    if (head_) {
      bhttp::write_header(session_.stream(), serializer, ec);
    } else {
      bhttp::write(session_.stream(), serializer, ec);
    }
    if (ec) broken_ = true;
  }

  bool beginStream(int status, std::string_view contentType) override {
    if (state_ != State::kIdle || broken_) return false;
    state_ = State::kStreaming;
    if (status < 200 || status > 999) status = 500;
    bhttp::response<bhttp::empty_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(status));
    if (!contentType.empty()) res.set(bhttp::field::content_type, contentType);
    for (auto& [name, value] : headers_) res.insert(name, value);
    res.keep_alive(keepAlive());
    res.chunked(true);
    beast::error_code ec;
    bhttp::response_serializer<bhttp::empty_body> serializer(res);
    bhttp::write_header(session_.stream(), serializer, ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  bool writeChunk(std::string_view data) override {
    if (state_ != State::kStreaming || broken_ || session_.stopping()) return false;
    // A zero-length chunk would end the body; and HEAD responses carry no body at all.
    if (data.empty() || head_) return true;
    beast::error_code ec;
    net::write(session_.stream(), bhttp::make_chunk(net::const_buffer(data.data(), data.size())),
               ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  void endStream() override {
    if (state_ != State::kStreaming) return;
    state_ = State::kStreamEnded;
    if (broken_ || head_) return;
    beast::error_code ec;
    net::write(session_.stream(), bhttp::make_chunk_last(), ec);
    if (ec) broken_ = true;
  }

  bool clientConnected() override {
    if (broken_ || session_.stopping()) return false;
    if (peerGone(session_.fd())) broken_ = true;
    return !broken_;
  }

  RawStream* switchProtocols() override {
    if (state_ != State::kIdle || broken_) return nullptr;
    state_ = State::kUpgraded;
    session_.disableReadTimeout();
    bhttp::response<bhttp::empty_body> res;
    res.version(11);
    res.result(bhttp::status::switching_protocols);
    for (auto& [name, value] : headers_) res.insert(name, value);
    beast::error_code ec;
    bhttp::response_serializer<bhttp::empty_body> serializer(res);
    bhttp::write_header(session_.stream(), serializer, ec);
    if (ec) {
      broken_ = true;
      return nullptr;
    }
    return this;
  }

  size_t readSome(char* data, size_t size) override {
    if (state_ != State::kUpgraded || broken_ || size == 0) return 0;
    beast::flat_buffer& pending = session_.buffer();
    if (pending.size() > 0) {
      size_t n = net::buffer_copy(net::buffer(data, size), pending.data());
      pending.consume(n);
      return n;
    }
    beast::error_code ec;
    size_t n = session_.stream().read_some(net::buffer(data, size), ec);
    if (ec) {
      broken_ = true;
      return 0;
    }
    return n;
  }

  bool writeAll(std::string_view data) override {
    if (state_ != State::kUpgraded || broken_) return false;
    beast::error_code ec;
    net::write(session_.stream(), net::const_buffer(data.data(), data.size()), ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  std::shared_ptr<StreamWaker> detachStream(std::shared_ptr<StreamSource> source) override {
    // HEAD has no body to stream; bytes the client sent after this request would be lost.
    if (state_ != State::kStreaming || broken_ || head_ || session_.stopping() ||
        session_.inputBuffered() || session_.loop() == nullptr || source == nullptr) {
      return nullptr;
    }
    state_ = State::kDetached;
    auto stream = session_.loop()->prepare(std::move(source), keepAlive());
    session_.setDetached(stream);
    return StreamLoop::waker(std::move(stream));
  }

  int pollFd() override { return session_.fd(); }
  bool inputPending() override { return state_ == State::kUpgraded && session_.inputBuffered(); }

 private:
  Session<Stream>& session_;
  const bool keepAlive_;
  const bool head_;
  State state_ = State::kIdle;
  bool broken_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// What a connection keeps between the requests it serves (see Connection).
struct ConnectionState {
  ConnectionState(const ConnectionEnv& e, int fd, SSL_CTX* tlsContext,
                  std::chrono::steady_clock::time_point deadline)
      : env(e), socket(fd), tlsContext(tlsContext), handshakeDeadline(deadline) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      char host[INET6_ADDRSTRLEN] = {};
      int port = 0;
      if (address.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
      } else if (address.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
      }
      remoteAddress = std::string(host) + ":" + std::to_string(port);
    }
  }

  const ConnectionEnv& env;
  TimedSocket socket;
  SSL_CTX* const tlsContext;       // null for plain HTTP
  std::unique_ptr<TlsStream> tls;  // made at the first byte: a silent socket costs no SSL
  bool handshakeDone = false;
  PeerCertificate certificate = PeerCertificate::kNone;
  UserInfo certificateUser;
  std::string remoteAddress;
  beast::flat_buffer buffer;  // bytes read past the last request (pipelining)
  std::shared_ptr<StreamLoop::Stream> detached;  // a handler's detached response stream
  std::chrono::steady_clock::time_point handshakeDeadline;
};

// The keep-alive loop over one (plain or TLS) stream, for as long as input is buffered.
template <class Stream>
class Session {
 public:
  Session(ConnectionState& state, Stream& stream)
      : env_(state.env), state_(state), stream_(stream) {}

  Stream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return state_.buffer; }
  int fd() { return state_.socket.fd(); }
  bool stopping() const { return env_.stopping.load(std::memory_order_relaxed); }
  StreamLoop* loop() const { return env_.streams; }
  void setDetached(std::shared_ptr<StreamLoop::Stream> stream) {
    state_.detached = std::move(stream);
  }
  // After an upgrade the protocol on top has its own liveness checks (WebSocket pings).
  void disableReadTimeout() { state_.socket.setReadTimeout(-1); }
  // Input a read would return without waiting for the socket.
  bool inputBuffered() const {
    return state_.buffer.size() > 0 || (state_.tls && state_.tls->hasPendingInput());
  }

  // Serves requests while their bytes are already here; parks the connection once it would
  // have to wait for the client (the poller then bounds that wait by the idle timeout).
  Connection::Next run() {
    while (!stopping()) {
      if (!serveOne()) {
        return state_.detached ? Connection::Next::kStream : Connection::Next::kClose;
      }
      if (!inputBuffered() && !nextRequestSoon(env_.config.keepAliveLingerMs)) {
        return Connection::Next::kPark;
      }
    }
    return Connection::Next::kClose;
  }

 private:
  // A busy keep-alive client (client-go in a burst, a load generator) sends its next request
  // within microseconds; waiting a moment for it here saves the hand-over to the poller and back
  // to a worker, which costs about as much as serving a small request.
  bool nextRequestSoon(int lingerMs) {
    return lingerMs > 0 && waitReadable(fd(), lingerMs) == Readiness::kReadable;
  }


  // Reads and answers one request. Returns whether the connection may carry another.
  bool serveOne() {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(env_.config.maxBodyBytes);
    beast::error_code ec;
    bhttp::read_header(stream_, state_.buffer, parser, ec);
    if (ec) return rejectUnreadable(ec);
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
      bhttp::write(stream_, proceed, ec);
      if (ec) return false;
    }
    if (!parser.is_done()) {
      bhttp::read(stream_, state_.buffer, parser, ec);
      if (ec) return rejectUnreadable(ec);
    }
    auto& message = parser.get();
    bool keepAlive = message.keep_alive() && !stopping();

    Request request;
    request.method = std::string(message.method_string());
    request.rawTarget = std::string(message.target());
    auto target = parseTarget(request.rawTarget);
    if (!target) {
      return sendStatus(core::Status::badRequest("malformed request target"), keepAlive);
    }
    request.path = std::move(target->path);
    request.query = std::move(target->query);
    for (const auto& field : message) {
      std::string name = lowerAscii(field.name_string());
      auto [it, inserted] = request.headers.try_emplace(std::move(name), field.value());
      if (!inserted) {
        it->second.append(", ");
        it->second.append(field.value());
      }
    }
    request.body = std::move(message.body());
    request.remoteAddress = state_.remoteAddress;
    if (!authenticate(request)) {
      return sendStatus(core::Status::unauthorized(), keepAlive);
    }

    Writer<Stream> writer(*this, keepAlive, message.method() == bhttp::verb::head);
    try {
      env_.handler(request, writer);
    } catch (const std::exception& e) {
      if (writer.state() == Writer<Stream>::State::kIdle) {
        writer.send(
            500, "application/json",
            core::Status::internal(std::string("handler failed: ") + e.what()).toJsonString());
      } else {
        // A response is half written: the connection is unusable, unless the handler had
        // detached it (the stream loop then ends the response).
        return false;
      }
    }
    using State = typename Writer<Stream>::State;
    switch (writer.state()) {
      case State::kIdle:
        writer.send(500, "application/json",
                    core::Status::internal("the handler wrote no response").toJsonString());
        break;
      case State::kStreaming:
        writer.endStream();
        break;
      case State::kUpgraded:
      case State::kDetached:  // the stream loop has the connection now (see run())
        return false;
      default:
        break;
    }
    return !writer.broken() && writer.keepAlive() && !stopping();
  }

  // Upstream order: client certificate, then bearer token, then anonymous.
  bool authenticate(Request& request) {
    if (state_.certificate == PeerCertificate::kValid) {
      request.user = state_.certificateUser;
    } else {
      std::string authorization = request.header("authorization");
      size_t space = authorization.find(' ');
      if (space != std::string::npos && lowerAscii(authorization.substr(0, space)) == "bearer") {
        std::string_view token(authorization);
        token.remove_prefix(space + 1);
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token.empty() || !env_.tokens) return false;
        UserInfo user = env_.tokens(token);
        if (user.anonymous()) return false;
        request.user = std::move(user);
      } else if (state_.certificate == PeerCertificate::kInvalid) {
        return false;  // credentials were offered and are bad
      } else {
        return true;  // anonymous: the handler decides what it may see
      }
    }
    auto& groups = request.user.groups;
    if (std::find(groups.begin(), groups.end(), kAuthenticatedGroup) == groups.end()) {
      groups.emplace_back(kAuthenticatedGroup);
    }
    return true;
  }

  bool sendStatus(const core::Status& status, bool keepAlive) {
    Writer<Stream> writer(*this, keepAlive, false);
    writer.send(status.code(), "application/json", status.toJsonString());
    return !writer.broken() && keepAlive;
  }

  // A request that could not be read. Answer what deserves an answer, then close.
  bool rejectUnreadable(const beast::error_code& ec) {
    if (ec.category() != httpErrorCategory() || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message) {
      return false;  // I/O error or the client went away
    }
    if (ec == bhttp::error::body_limit) {
      sendStatus(
          // Upstream's words (limitedReadBody): "Request entity too large: limit is 3145728".
          core::Status::requestEntityTooLarge("Request entity too large: limit is " +
                                              std::to_string(env_.config.maxBodyBytes)),
          false);
    } else if (ec == bhttp::error::header_limit) {
      sendStatus(core::Status::generic(431, "RequestHeaderFieldsTooLarge",
                                       "request header fields too large"),
                 false);
    } else {
      sendStatus(core::Status::badRequest("malformed HTTP request: " + ec.message()), false);
    }
    drainAndClose();
    return false;
  }

  // Closing with unread request bytes in the kernel makes it send a reset, which can destroy
  // the error response before the client reads it. Half-close, then discard what still comes.
  void drainAndClose() {
    ::shutdown(fd(), SHUT_WR);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDrainTimeoutMs);
    char scratch[16384];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || stopping()) return;
      if (waitReadable(fd(), static_cast<int>(left.count())) != Readiness::kReadable) return;
      ssize_t n = ::recv(fd(), scratch, sizeof(scratch), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    }
  }

  const ConnectionEnv& env_;
  ConnectionState& state_;
  Stream& stream_;
};

}  // namespace

struct Connection::State : ConnectionState {
  using ConnectionState::ConnectionState;
};

Connection::Connection(const ConnectionEnv& env, int fd, SSL_CTX* tls,
                       std::chrono::steady_clock::time_point handshakeDeadline)
    : fd_(fd), state_(std::make_unique<State>(env, fd, tls, handshakeDeadline)) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // watch events are small
  const ServerConfig& config = env.config;
  // A client that stops reading for this long is gone (a watch must not block forever).
  state_->socket.setWriteTimeout(config.writeTimeoutSeconds > 0 ? config.writeTimeoutSeconds * 1000
                                                                : -1);
  // Within a request, each read may wait this long; between requests the poller keeps time.
  state_->socket.setReadTimeout(config.idleTimeoutSeconds > 0 ? config.idleTimeoutSeconds * 1000
                                                              : -1);
}

Connection::~Connection() {
  state_.reset();  // frees the SSL object before its fd goes
  ::close(fd_);
}

void Connection::shutdownSocket() { ::shutdown(fd_, SHUT_RDWR); }

std::shared_ptr<StreamLoop::Stream> Connection::takeStream() { return std::move(state_->detached); }

std::unique_ptr<StreamTransport> Connection::streamTransport() {
  if (state_->tls) return tlsTransport(fd_, state_->tls->native_handle());
  return plainTransport(fd_);
}

Connection::Next Connection::serve() {
  ConnectionState& state = *state_;
  if (state.env.stopping.load()) return Next::kClose;
  Next next;
  if (state.tlsContext == nullptr) {
    next = Session<TimedSocket>(state, state.socket).run();
  } else if (!state.handshakeDone) {
    if (!state.tls) state.tls = std::make_unique<TlsStream>(state.socket, state.tlsContext);
    beast::error_code ec;
    if (!state.tls->handshake(state.handshakeDeadline, ec)) return Next::kClose;
    state.handshakeDone = true;
    state.certificate = peerCertificateUser(state.tls->native_handle(), &state.certificateUser);
    // The first request follows the handshake at once; if not, wait for it in the poller.
    bool soon = state.tls->hasPendingInput() ||
                waitReadable(fd_, state.env.config.keepAliveLingerMs) == Readiness::kReadable;
    next = soon ? Session<TlsStream>(state, *state.tls).run() : Next::kPark;
  } else {
    next = Session<TlsStream>(state, *state.tls).run();
  }
  // A parked connection keeps no read buffer (Beast grows it to 64 KB for a large body).
  if (next != Next::kClose && state.buffer.size() == 0) state.buffer.shrink_to_fit();
  return next;
}

}  // namespace berth::apiserver::http::internal
