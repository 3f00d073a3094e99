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

}  // namespace

EventRecorder::EventRecorder(RestClient& client, std::string component, std::string host)
    : client_(client), component_(std::move(component)), host_(std::move(host)) {
  thread_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void EventRecorder::record(const json::value& object, std::string_view type,
                           std::string_view reason, std::string_view message) {
  Pending p{objectReference(object), std::string(type), std::string(reason), std::string(message),
            nowTime()};
  std::string objectKey = json::serialize(p.involved.at("kind")) + "/" +
                          field(p.involved, "namespace") + "/" + field(p.involved, "name");
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto& bucket = spamFilter_[objectKey];
  if (!bucket) bucket = std::make_unique<TokenBucket>(1.0 / 300, 25);
  if (!bucket->tryAccept()) {
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
  std::string ns = field(p.involved, "namespace");
  if (ns.empty()) ns = "default";  // events about cluster-scoped objects live in default
  std::string identity = json::serialize(p.involved.at("kind")) + "|" +
                         field(p.involved, "apiVersion") + "|" + ns + "|" +
                         field(p.involved, "name") + "|" + field(p.involved, "uid") + "|" + p.type +
                         "|" + p.reason + "|" + p.message + "|" + component_;
  auto it = aggregates_.find(identity);
  if (it != aggregates_.end()) {
    Aggregate& agg = it->second;
    json::object patch{{"count", agg.count + 1}, {"lastTimestamp", p.timestamp}};
    auto r = client_.patch(kEvents, agg.namespace_, agg.name, PatchType::kStrategicMerge,
                           json::serialize(patch));
    if (r.ok()) {
      ++agg.count;
      std::lock_guard lock(mu_);
      ++patched_;
      return;
    }
    aggregates_.erase(it);  // gone or unpatchable: start a new Event
  }
  char suffix[32];
  std::snprintf(
      suffix, sizeof suffix, ".%llx",
      static_cast<unsigned long long>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::string name = field(p.involved, "name") + suffix;
  json::object source{{"component", component_}};
  if (!host_.empty()) source["host"] = host_;
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
                  {"reportingComponent", component_},
                  {"reportingInstance", host_}};
  if (client_.create(kEvents, ns, ev).ok()) {
    aggregates_[identity] = Aggregate{ns, name, 1};
    std::lock_guard lock(mu_);
    ++created_;
  }
}

}  // namespace berth::client
