#pragma once
// Forwarding of queries outside the cluster zone to the node's upstream resolvers (those of
// /etc/resolv.conf by default), as CoreDNS's `forward . /etc/resolv.conf`: the client's query is
// sent as it came (under a fresh random id, from a fresh socket so the source port is random
// too), over UDP, retried over TCP when the reply is truncated and the client can take a long
// reply; each upstream is tried in turn with a timeout, and failure is the caller's SERVFAIL.
// Addresses the server itself answers on are never upstreams (no forwarding loop).
//
// Thread-safety: exchange() from any thread; submit() queues work for the forwarder's own
// worker threads, which run the callbacks; stop() waits for queued work to finish.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace berth::dns {

struct ForwarderOptions {
  std::vector<std::string> upstreams;  // "ip", "ip:port" or "[v6]:port"; port 53 by default
  std::vector<std::string> exclude;    // our own addresses ("ip" or "ip:port"): never upstreams
  std::chrono::milliseconds timeout{2000};  // per upstream attempt
  int workers = 8;          // concurrent forwarded queries
  size_t maxQueued = 4096;  // beyond this, submit() refuses (the caller answers SERVFAIL)
};

// The nameserver addresses of a resolv.conf ("" when it cannot be read).
std::vector<std::string> resolvConfNameservers(const std::string& path);

class Forwarder {
 public:
  explicit Forwarder(ForwarderOptions options);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // The upstream's reply to `query` (a whole DNS message), carrying the query's id. With
  // tcpOnTruncation, a truncated UDP reply is fetched again over TCP; otherwise it is returned
  // as is (the client retries over TCP). Unavailable when every upstream failed.
  core::Result<std::string> exchange(std::string_view query, bool tcpOnTruncation) const;

  using Done = std::function<void(core::Result<std::string>)>;
  // exchange() on a worker thread, then done(result) there. False when the queue is full or
  // the forwarder is stopping (done is not called).
  bool submit(std::string query, bool tcpOnTruncation, Done done);

  void stop();
  size_t upstreamCount() const;

 private:
  struct Upstream;
  struct Job {
    std::string query;
    bool tcp;
    Done done;
  };
  void workerLoop();

  const ForwarderOptions o_;
  std::vector<Upstream> upstreams_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace berth::dns
