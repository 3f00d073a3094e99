#pragma once
// EventRecorder: writes core/v1 Events about objects, as client-go's `tools/record` recorder
// with its EventCorrelator's spam filter and count of repeats (event_correlator.h).
//
// record() puts the event on a queue of at most 1,000 (client-go's maxQueuedEvents) and returns;
// when the queue is full the event is dropped and counted (dropped()), as client-go's
// broadcaster drops rather than blocks. The recorder's thread takes events in order and writes
// them through an EventSink (the API server, through RestClient):
// - a burst of events about one object is throttled by the correlator's spam filter (25, then one
//   per 5 minutes) and those beyond it are not written (throttled());
// - the first occurrence of an event identity is created as a new Event named
//   "<object name>.<hex nanoseconds>" with count 1 (events about cluster-scoped objects go to the
//   default namespace); a repeat bumps that Event's count and lastTimestamp with a strategic-merge
//   PATCH (if the Event is gone, e.g. TTL-expired, or its identity was evicted from the
//   correlator, a new one is created).
//
// Lifecycle: flush() waits until everything recorded so far is written. The destructor stops
// taking events and writes everything already queued before it returns.
//
// Thread-safety: record(), flush() and the counters may be called from any thread.
#include <boost/json/value.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "client/clock.h"
#include "client/event_correlator.h"
#include "client/rest_client.h"
#include "core/status.h"

namespace berth::client {

// Where a recorder writes Events (client-go's EventSink): the API server in production, a fake in
// tests. Called from the recorder's thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual core::Status create(std::string_view ns, const boost::json::value& event) = 0;
  virtual core::Status patch(std::string_view ns, std::string_view name,
                             std::string_view strategicMergePatch) = 0;
};

class EventRecorder {
 public:
  static constexpr std::size_t kMaxQueuedEvents = 1000;

  // `component` is source.component / reportingComponent ("default-scheduler"); `host` the node.
  EventRecorder(RestClient& client, std::string component, std::string host = "");
  // Writes to `sink`, which must outlive the recorder; `clock` drives the spam filter.
  EventRecorder(EventSink& sink, std::string component, std::string host = "",
                Clock& clock = Clock::real());
  ~EventRecorder();

  // `type` is "Normal" or "Warning"; `object` the involved object (its kind, apiVersion and
  // metadata are read).
  void record(const boost::json::value& object, std::string_view type, std::string_view reason,
              std::string_view message);
  void flush();
  // Counters for tests and metrics: Events created, patched (repeats); events dropped because
  // the queue was full, and events the spam filter held back.
  long long created() const;
  long long patched() const;
  long long dropped() const;
  long long throttled() const;

 private:
  struct Pending {
    boost::json::value involved;  // ObjectReference
    std::string type, reason, message, timestamp;
  };
  EventRecorder(std::unique_ptr<EventSink> owned, EventSink* sink, std::string component,
                std::string host, Clock& clock);
  void run();
  void write(const Pending& p);
  bool patchRepeat(const std::string& key, const Pending& p);
  void create(const std::string& key, const Pending& p);
  void count(long long& counter);

  const std::unique_ptr<EventSink> ownedSink_;  // set when writing through a RestClient
  EventSink& sink_;
  const EventSource source_;
  EventCorrelator correlator_;  // writer thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // at most kMaxQueuedEvents
  bool busy_ = false;
  bool stopping_ = false;
  long long created_ = 0, patched_ = 0, dropped_ = 0, throttled_ = 0;
  std::thread thread_;
};

}  // namespace berth::client
