#pragma once
// One HTTP/1.1 connection: optional TLS handshake, then a keep-alive loop of read request →
// authenticate → handler → response. Runs on the connection's own thread and returns when the
// connection is done; the caller owns (and closes) the socket, and may ::shutdown() its fd from
// another thread to make every blocked read or write fail.
#include <atomic>

#include "apiserver/http/internal/beast.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::http::internal {

struct ConnectionEnv {
  const ServerConfig& config;
  const TokenAuthenticator& tokens;
  const Handler& handler;
  const std::atomic<bool>& stopping;  // set by Server::stop(): answer with Connection: close
};

// `tls` is null for plain HTTP.
void serveConnection(const ConnectionEnv& env, tcp::socket& socket, ssl::context* tls);

}  // namespace berth::apiserver::http::internal
