#pragma once
// EventRecorder: writes core/v1 Events about objects, as client-go's `tools/record` recorder
// with its EventCorrelator's aggregation of repeats.
//
// An event is identified by (involved object's kind, namespace, name, uid, apiVersion, type,
// reason, message, source component). The first occurrence is created as a new Event named
// "<object name>.<hex nanoseconds>" with count 1; a repeat of the same identity within the
// recorder's lifetime bumps that Event's count and lastTimestamp with a strategic-merge PATCH
// instead of creating another one (if the Event is gone, e.g. TTL-expired, a new one is
// created). A burst of distinct events is throttled by a token bucket (client-go: 1 per 5 min
// refill, burst 25 per object — here one bucket per object, qps 1/300, burst 25) and dropped
// beyond it.
//
// Events are best effort: record() never blocks on the API; writes happen on the recorder's
// thread, in order. `flush()` waits until everything recorded so far is written.
//
// Thread-safety: record() and flush() may be called from any thread.
#include <boost/json/value.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/rate_limiter.h"
#include "client/rest_client.h"

namespace berth::client {

class EventRecorder {
 public:
  // `component` is source.component / reportingComponent ("default-scheduler"); `host` the node.
  EventRecorder(RestClient& client, std::string component, std::string host = "");
  ~EventRecorder();

  // `type` is "Normal" or "Warning"; `object` the involved object (its kind, apiVersion and
  // metadata are read).
  void record(const boost::json::value& object, std::string_view type, std::string_view reason,
              std::string_view message);
  void flush();
  // Counters for tests and metrics.
  long long created() const;
  long long patched() const;
  long long dropped() const;

 private:
  struct Pending {
    boost::json::value involved;  // ObjectReference
    std::string type, reason, message, timestamp;
  };
  struct Aggregate {
    std::string namespace_, name;
    long long count = 0;
  };
  void run();
  void write(const Pending& p);

  RestClient& client_;
  const std::string component_, host_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::map<std::string, std::unique_ptr<TokenBucket>> spamFilter_;  // per involved object
  std::map<std::string, Aggregate> aggregates_;  // by event identity; writer thread only
  long long created_ = 0, patched_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace berth::client
