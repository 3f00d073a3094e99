#pragma once
// WatchMux: reads many watch streams on one epoll thread. Today's RestClient gives each watch its
// own connection and a blocking run(); a simulated node per thread would cost 5,000 threads, so
// `berth simulate` starts each watch with RestClient::watch (connect, TLS, response head) and
// then hands the connection here, where it costs its socket, its TLS state (record buffers
// released while idle) and a partial line. The server still sees one connection per watching
// node, which is the real load of that many kubelets.
//
// Thread-safety: add()/cancel()/size() from any thread. Handlers run on the mux thread, one
// stream's events in order; they must be quick (post work elsewhere). An event already read
// may still be delivered after cancel() returns; onEnd is never called for a cancelled stream.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/rest_client.h"
#include "core/status.h"

namespace berth::simulate {

class WatchMux {
 public:
  struct Handlers {
    std::function<void(client::WatchEvent&&)> onEvent;
    // Once per stream: OK when the server ended it (its timeout), else why it broke.
    std::function<void(const core::Status&)> onEnd;
  };

  WatchMux();
  ~WatchMux();  // stop()
  core::Status start();
  void stop();  // closes every stream without onEnd

  uint64_t add(std::unique_ptr<client::Watch> watch, Handlers handlers);
  void cancel(uint64_t id);
  size_t size() const;

 private:
  struct Stream;
  void loop();
  // Reads what `id` has; returns its lines and whether it ended (then it is removed).
  void service(uint64_t id);

  int epollFd_ = -1;
  int wakeFd_ = -1;  // eventfd: stop, or streams added with bytes already buffered
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> streams_;
  std::vector<uint64_t> kicked_;  // streams to read once without waiting for epoll
  uint64_t nextId_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::simulate
