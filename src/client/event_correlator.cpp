#include "client/event_correlator.h"

#include <boost/json.hpp>

#include "core/json_access.h"

namespace berth::client {

namespace json = boost::json;

namespace {

// Reads an ObjectReference's field; anything but an object reads as empty.
std::string field(const json::value& ref, std::string_view key) {
  const auto* o = ref.if_object();
  return o ? core::stringField(*o, key) : std::string();
}

// Joins with a separator no name or kind contains, so that two keys differ when any part does.
void append(std::string& key, std::string_view part) {
  key += part;
  key += '\x1f';
}

}  // namespace

std::string eventSpamKey(const EventSource& source, const json::value& involved) {
  std::string key;
  append(key, source.component);
  append(key, source.host);
  for (const char* name : {"kind", "namespace", "name", "uid", "apiVersion"}) {
    append(key, field(involved, name));
  }
  return key;
}

std::string eventKey(const EventSource& source, const json::value& involved, std::string_view type,
                     std::string_view reason, std::string_view message) {
  std::string key = eventSpamKey(source, involved);
  append(key, field(involved, "fieldPath"));
  append(key, type);
  append(key, reason);
  append(key, message);
  return key;
}

EventCorrelator::EventCorrelator(Clock& clock, std::size_t cacheEntries)
    : clock_(clock), spamFilter_(cacheEntries), observations_(cacheEntries) {}

bool EventCorrelator::allow(const std::string& spamKey) {
  std::unique_ptr<TokenBucket>* bucket = spamFilter_.get(spamKey);
  if (!bucket) {
    bucket = &spamFilter_.put(spamKey, std::make_unique<TokenBucket>(kSpamQps, kSpamBurst, clock_));
  }
  return (*bucket)->tryAccept();
}

const EventCorrelator::Observation* EventCorrelator::lastObservation(const std::string& eventKey) {
  return observations_.get(eventKey);
}

void EventCorrelator::observe(const std::string& eventKey, Observation observation) {
  observations_.put(eventKey, std::move(observation));
}

void EventCorrelator::forget(const std::string& eventKey) { observations_.erase(eventKey); }

}  // namespace berth::client
