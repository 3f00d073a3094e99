#include "client/event_correlator.h"

#include <boost/json.hpp>

namespace berth::client {

namespace json = boost::json;

namespace {

std::string_view field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  if (!o) return {};
  auto it = o->find(key);
  return it != o->end() && it->value().is_string() ? std::string_view(it->value().get_string())
                                                   : std::string_view();
}

// Joins with a separator no name or kind contains, so that two keys differ when any part does.
void append(std::string& key, std::string_view part) {
  key += part;
  key += '\x1f';
}

}  // namespace

std::string eventSpamKey(const EventSource& source, const json::value& involved) {
  std::string key;
  for (std::string_view part :
       {std::string_view(source.component), std::string_view(source.host), field(involved, "kind"),
        field(involved, "namespace"), field(involved, "name"), field(involved, "uid"),
        field(involved, "apiVersion")}) {
    append(key, part);
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
