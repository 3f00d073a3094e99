#include "client/event_recorder.h"

#include <boost/json.hpp>

#include <cstdio>

#include "client/leader_election.h"

namespace berth::client {

namespace json = boost::json;

namespace {

const Resource kEvents{"", "v1", "events", true};

std::string field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  if (!o) return {};
  auto it = o->find(key);
  return it != o->end() && it->value().is_string() ? std::string(it->value().get_string())
                                                   : std::string();
}

json::object objectReference(const json::value& obj) {
  json::value meta = obj.is_object() && obj.as_object().contains("metadata")
                         ? obj.as_object().at("metadata")
                         : json::value();
  json::object ref{{"kind", field(obj, "kind")},
                   {"apiVersion", field(obj, "apiVersion")},
                   {"name", field(meta, "name")}};
  if (auto ns = field(meta, "namespace"); !ns.empty()) ref["namespace"] = ns;
  if (auto uid = field(meta, "uid"); !uid.empty()) ref["uid"] = uid;
  if (auto rv = field(meta, "resourceVersion"); !rv.empty()) ref["resourceVersion"] = rv;
  return ref;
}

// Events about cluster-scoped objects live in the default namespace.
std::string eventNamespace(const json::value& involved) {
  std::string ns = field(involved, "namespace");
  return ns.empty() ? "default" : ns;
}

class RestEventSink : public EventSink {
 public:
  explicit RestEventSink(RestClient& client) : client_(client) {}
  core::Status create(std::string_view ns, const json::value& event) override {
    auto r = client_.create(kEvents, ns, event);
    return r.ok() ? core::Status() : r.status();
  }
  core::Status patch(std::string_view ns, std::string_view name,
                     std::string_view strategicMergePatch) override {
    auto r = client_.patch(kEvents, ns, name, PatchType::kStrategicMerge, strategicMergePatch);
    return r.ok() ? core::Status() : r.status();
  }

 private:
  RestClient& client_;
};

}  // namespace

EventRecorder::EventRecorder(RestClient& client, std::string component, std::string host)
    : EventRecorder(std::make_unique<RestEventSink>(client), nullptr, std::move(component),
                    std::move(host), Clock::real()) {}

EventRecorder::EventRecorder(EventSink& sink, std::string component, std::string host, Clock& clock)
    : EventRecorder(nullptr, &sink, std::move(component), std::move(host), clock) {}

EventRecorder::EventRecorder(std::unique_ptr<EventSink> owned, EventSink* sink,
                             std::string component, std::string host, Clock& clock)
    : ownedSink_(std::move(owned)),
      sink_(sink ? *sink : *ownedSink_),
      source_{std::move(component), std::move(host)},
      correlator_(clock) {
  thread_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();  // run() writes what is queued first
}

void EventRecorder::record(const json::value& object, std::string_view type,
                           std::string_view reason, std::string_view message) {
  Pending p{objectReference(object), std::string(type), std::string(reason), std::string(message),
            nowTime()};
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (queue_.size() >= kMaxQueuedEvents) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(p));
  cv_.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

long long EventRecorder::created() const {
  std::lock_guard lock(mu_);
  return created_;
}
long long EventRecorder::patched() const {
  std::lock_guard lock(mu_);
  return patched_;
}
long long EventRecorder::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
long long EventRecorder::throttled() const {
  std::lock_guard lock(mu_);
  return throttled_;
}

void EventRecorder::count(long long& counter) {
  std::lock_guard lock(mu_);
  ++counter;
}

void EventRecorder::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    write(p);
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void EventRecorder::write(const Pending& p) {
  if (!correlator_.allow(eventSpamKey(source_, p.involved))) {
    count(throttled_);
    return;
  }
  std::string key = eventKey(source_, p.involved, p.type, p.reason, p.message);
  if (patchRepeat(key, p)) return;
  create(key, p);
}

// A repeat of an Event the correlator remembers: bumps its count. False when there is none to
// bump (never written, evicted, or gone from the server): the caller creates a new one.
bool EventRecorder::patchRepeat(const std::string& key, const Pending& p) {
  const EventCorrelator::Observation* last = correlator_.lastObservation(key);
  if (!last) return false;
  EventCorrelator::Observation next = *last;
  ++next.count;
  json::object patch{{"count", next.count}, {"lastTimestamp", p.timestamp}};
  if (!sink_.patch(next.namespace_, next.name, json::serialize(patch)).ok()) {
    correlator_.forget(key);
    return false;
  }
  correlator_.observe(key, std::move(next));
  count(patched_);
  return true;
}

void EventRecorder::create(const std::string& key, const Pending& p) {
  std::string ns = eventNamespace(p.involved);
  char suffix[32];
  std::snprintf(
      suffix, sizeof suffix, ".%llx",
      static_cast<unsigned long long>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::string name = field(p.involved, "name") + suffix;
  json::object source{{"component", source_.component}};
  if (!source_.host.empty()) source["host"] = source_.host;
  json::object ev{{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"involvedObject", p.involved},
                  {"reason", p.reason},
                  {"message", p.message},
                  {"type", p.type},
                  {"source", source},
                  {"firstTimestamp", p.timestamp},
                  {"lastTimestamp", p.timestamp},
                  {"count", 1},
                  {"reportingComponent", source_.component},
                  {"reportingInstance", source_.host}};
  if (!sink_.create(ns, ev).ok()) return;
  correlator_.observe(key, {ns, name, 1});
  count(created_);
}

}  // namespace berth::client
