#include "client/leader_election.h"

#include <boost/json.hpp>

#include <ctime>

namespace berth::client {

namespace json = boost::json;

namespace {
std::string formatTime(bool micro) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s(buf);
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) %
              std::chrono::seconds(1);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us.count()));
    s += frac;
  }
  return s + "Z";
}
}  // namespace

std::string nowMicroTime() { return formatTime(true); }
std::string nowTime() { return formatTime(false); }

const Resource& LeaderElector::leaseResource() {
  static const Resource r{"coordination.k8s.io", "v1", "leases", true};
  return r;
}

LeaderElector::LeaderElector(RestClient& client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return observedHolder_;
}

bool LeaderElector::waitStop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [&] { return stopping_; });
}

bool LeaderElector::tryAcquireOrRenew() {
  const auto& r = leaseResource();
  std::string now = nowMicroTime();
  int durationSeconds = static_cast<int>(std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(config_.leaseDuration).count()));
  auto current = client_.get(r, config_.leaseNamespace, config_.leaseName);
  if (!current.ok()) {
    if (!current.status().isNotFound()) return false;
    json::object lease{
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.leaseName}, {"namespace", config_.leaseNamespace}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", durationSeconds},
          {"acquireTime", now},
          {"renewTime", now},
          {"leaseTransitions", 0}}}};
    if (!client_.create(r, config_.leaseNamespace, lease).ok()) return false;
    std::lock_guard lock(mu_);
    observedHolder_ = config_.identity;
    observedTime_ = std::chrono::steady_clock::now();
    return true;
  }
  if (!current->is_object()) return false;
  json::object& obj = current->as_object();
  json::object& spec =
      obj["spec"].is_object() ? obj["spec"].as_object() : obj["spec"].emplace_object();
  std::string holder = spec.contains("holderIdentity") && spec["holderIdentity"].is_string()
                           ? std::string(spec["holderIdentity"].get_string())
                           : std::string();
  std::string record = json::serialize(spec);
  auto steadyNow = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (record != observedRecord_) {
      observedRecord_ = record;
      observedTime_ = steadyNow;
    }
    observedHolder_ = holder;
    // Someone else holds an unexpired lease: not ours to take.
    if (!holder.empty() && holder != config_.identity &&
        steadyNow < observedTime_ + config_.leaseDuration)
      return false;
  }
  long long transitions = spec.contains("leaseTransitions") && spec["leaseTransitions"].is_int64()
                              ? spec["leaseTransitions"].get_int64()
                              : 0;
  if (holder != config_.identity) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = transitions + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = durationSeconds;
  spec["renewTime"] = now;
  // The PUT carries metadata.resourceVersion as read: a concurrent writer makes it 409.
  auto updated = client_.update(r, config_.leaseNamespace, *current);
  if (!updated.ok()) return false;
  std::lock_guard lock(mu_);
  observedHolder_ = config_.identity;
  observedRecord_ = json::serialize(updated->at("spec"));
  observedTime_ = std::chrono::steady_clock::now();
  return true;
}

void LeaderElector::release() {
  const auto& r = leaseResource();
  auto current = client_.get(r, config_.leaseNamespace, config_.leaseName);
  if (!current.ok() || !current->is_object() || !current->as_object()["spec"].is_object()) return;
  json::object& spec = current->as_object()["spec"].as_object();
  if (!spec.contains("holderIdentity") || spec["holderIdentity"] != json::value(config_.identity))
    return;
  // As client-go's release: no holder, a 1 s lease, renewed now.
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = nowMicroTime();
  (void)client_.update(r, config_.leaseNamespace, *current);
}

void LeaderElector::run() {
  std::string lastHolder;
  auto noteHolder = [&] {
    std::string h = leader();
    if (h != lastHolder) {
      lastHolder = h;
      if (config_.onNewLeader && !h.empty()) config_.onNewLeader(h);
    }
  };
  for (;;) {
    // Candidate: try every retryPeriod until the Lease is ours.
    for (;;) {
      bool won = tryAcquireOrRenew();
      noteHolder();
      if (won) break;
      if (waitStop(config_.retryPeriod)) return;
    }
    leading_ = true;
    if (config_.onStartedLeading) config_.onStartedLeading();
    // Leader: renew every retryPeriod; give up after renewDeadline without a successful renew.
    auto lastRenew = std::chrono::steady_clock::now();
    bool stopped = false;
    for (;;) {
      if (waitStop(config_.retryPeriod)) {
        stopped = true;
        break;
      }
      if (tryAcquireOrRenew()) {
        lastRenew = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - lastRenew > config_.renewDeadline) {
        break;
      }
      noteHolder();
    }
    leading_ = false;
    if (stopped) release();
    if (config_.onStoppedLeading) config_.onStoppedLeading();
    if (stopped) return;
  }
}

}  // namespace berth::client
