#pragma once
// HTTP(S) front door of the API server: TLS termination, HTTP/1.1 parsing, authentication,
// then hands a transport-neutral Request to a Handler. Beast and Asio stay inside this folder's
// .cpp files; nothing above it includes them.
//
// Threading: one thread per accepted connection (keep-alive supported). A handler runs on its
// connection's thread and may block (a watch blocks for minutes); that is why the model is
// thread-per-connection rather than one event loop. start() returns once the socket listens;
// stop() closes the listener and every connection, and joins all threads.
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
  bool anonymous() const { return name.empty(); }
};

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // percent-decoded path, no query
  std::string rawTarget;                       // as received
  std::multimap<std::string, std::string> query;  // decoded; repeated keys kept
  std::map<std::string, std::string> headers;  // keys lower-cased; repeated values joined by ", "
  std::string body;
  UserInfo user;
  std::string remoteAddress;

  // First value of a query parameter, or empty.
  std::string queryParam(std::string_view key) const;
  bool hasQueryParam(std::string_view key) const;
  // Header by lower-case name, or empty.
  std::string header(std::string_view lowerName) const;
};

// How a handler answers. Either send() once, or beginStream() then writeChunk()* then
// endStream(). Headers added before the first send/beginStream are included.
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
  // True while the client connection is open (for long-polls without data).
  virtual bool clientConnected() = 0;
};

using Handler = std::function<void(Request&, ResponseWriter&)>;

// Maps a bearer token to a user. Returns nullopt-equivalent (empty name) for unknown tokens.
using TokenAuthenticator = std::function<UserInfo(std::string_view token)>;

struct ServerConfig {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 6443;          // 0 = pick a free port; see Server::port()
  std::string certFile;          // PEM serving certificate (chain)
  std::string keyFile;           // PEM private key
  std::string clientCaFile;      // PEM CA for client certificates (CN → user, O → groups)
  bool tls = true;               // false only for tests
  size_t maxBodyBytes = 3 * 1024 * 1024;  // upstream's request size limit is 3 MiB
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

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::apiserver::http
