#pragma once
// A ResponseWriter that records what a handler answered, for handler unit tests (no sockets).
//
// Thread-safety: one handler call at a time, like the real writer.
#include <string>
#include <utility>
#include <vector>

#include "apiserver/http/server.h"

namespace berth::apiserver::http::testing {

class FakeWriter : public ResponseWriter {
 public:
  void addHeader(std::string_view name, std::string_view value) override {
    headers.emplace_back(std::string(name), std::string(value));
  }
  void send(int code, std::string_view type, std::string_view data) override {
    ++responses;
    status = code;
    contentType = type;
    body = data;
  }
  bool beginStream(int code, std::string_view type) override {
    ++responses;
    status = code;
    contentType = type;
    streaming = true;
    return true;
  }
  bool writeChunk(std::string_view data) override {
    body += data;
    return connected;
  }
  void endStream() override { streaming = false; }
  bool clientConnected() override { return connected; }

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }

  int responses = 0;
  int status = 0;
  std::string contentType;
  std::string body;
  bool streaming = false;
  bool connected = true;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace berth::apiserver::http::testing
