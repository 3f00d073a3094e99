#pragma once
// EventCorrelator: the state an EventRecorder consults before writing an Event, as client-go's
// EventCorrelator (tools/record/events_cache.go) keeps it:
//
// - the spam filter: a token bucket per source and involved object (burst 25, refilled at one
//   event per 5 minutes); an event finding its bucket empty is not written;
// - the event log: for each event identity (source, involved object, type, reason, message), the
//   Event last written for it and its count, so that a repeat bumps that Event's count.
//
// Each keeps at most 4,096 keys (upstream's maxLruCacheEntries) and evicts the least recently used
// one beyond that. A key seen again after its eviction starts afresh, as upstream: a full bucket,
// and a new Event with count 1 instead of a patch of the old one.
//
// Thread-safety: none; the recorder's writer thread owns it.
#include <boost/json/fwd.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "client/clock.h"
#include "client/lru_cache.h"
#include "client/rate_limiter.h"

namespace berth::client {

// Who writes the events (Event.source).
struct EventSource {
  std::string component, host;
};

// upstream getSpamKey: the source and the involved object (an ObjectReference).
std::string eventSpamKey(const EventSource& source, const boost::json::value& involved);
// upstream getEventKey: the source, the involved object, type, reason and message.
std::string eventKey(const EventSource& source, const boost::json::value& involved,
                     std::string_view type, std::string_view reason, std::string_view message);

class EventCorrelator {
 public:
  static constexpr std::size_t kMaxLruCacheEntries = 4096;
  static constexpr int kSpamBurst = 25;
  static constexpr double kSpamQps = 1.0 / 300;

  explicit EventCorrelator(Clock& clock = Clock::real(),
                           std::size_t cacheEntries = kMaxLruCacheEntries);

  // Spam filter: takes a token of the key's bucket; false when it has none left.
  bool allow(const std::string& spamKey);

  // The Event last written for an event key.
  struct Observation {
    std::string namespace_, name;
    long long count = 0;
  };
  // nullptr when the key was never observed, forgotten or evicted. Valid until the next call.
  const Observation* lastObservation(const std::string& eventKey);
  void observe(const std::string& eventKey, Observation observation);
  void forget(const std::string& eventKey);

  std::size_t spamFilterSize() const { return spamFilter_.size(); }
  std::size_t observationsSize() const { return observations_.size(); }

 private:
  Clock& clock_;
  LruCache<std::unique_ptr<TokenBucket>> spamFilter_;
  LruCache<Observation> observations_;
};

}  // namespace berth::client
