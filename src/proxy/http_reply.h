#pragma once
// The little HTTP the proxy's health servers speak (health_check_server.h, proxy_healthz.h): one
// request per connection, read with a short deadline, answered and closed.
#include <string>

namespace berth::proxy {

// Reads the request head and returns it (possibly partial), giving up after a short while so one
// stalled client does not hold up the others.
std::string readRequestHead(int fd);
// The path of a request head ("GET /healthz HTTP/1.1" -> "/healthz", query dropped); "" if none.
std::string requestPath(const std::string& head);
// Writes `data`, giving up after a short while (a client that does not read).
void writeAll(int fd, const std::string& data);
// A whole response with a JSON body and the headers upstream's handlers set.
std::string jsonResponse(int code, const std::string& body, const std::string& extraHeaders = "");
// Binds a listening TCP socket on "address" (IPv4 or IPv6 literal) and `port`: the descriptor,
// or -1 with `error` set.
int listenTcp(const std::string& address, int port, std::string& error);

}  // namespace berth::proxy
