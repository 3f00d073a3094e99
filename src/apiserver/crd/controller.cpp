#include "apiserver/crd/controller.h"

#include <boost/json.hpp>

#include <chrono>

#include "apiserver/crd/definition.h"

namespace berth::apiserver::crd {
namespace json = boost::json;

Controller::Controller(Hooks hooks) : hooks_(std::move(hooks)) {}

Controller::~Controller() { stop(); }

void Controller::onEvent(const store::Event& e) {
  std::string name = e.kv.key.substr(std::min(e.kv.key.size(), kStoragePrefix.size()));
  if (e.type == store::Event::Type::kDelete) {
    core::unregisterResources(name);
    if (auto it = prefixes_.find(name); it != prefixes_.end()) {
      hooks_.retireCache(it->second);
      prefixes_.erase(it);
    }
    fingerprints_.erase(name);
    refused_.erase(name);
    std::string group = groups_[name];
    groups_.erase(name);
    requeueGroup(group, name);
    std::lock_guard lock(mu_);
    terminating_.erase(name);
    return;
  }
  boost::system::error_code ec;
  json::value v = json::parse(e.kv.value, ec);
  if (ec || !v.is_object()) return;
  const json::object& crd = v.get_object();
  const json::value* spec = crd.if_contains("spec");
  // What is served depends on the spec and on the names accepted in the status.
  std::string fingerprint = spec ? json::serialize(*spec) : "";
  bool namesRefused = false;
  if (const json::value* st = crd.if_contains("status"); st && st->is_object()) {
    if (const json::value* a = st->get_object().if_contains("acceptedNames"))
      fingerprint += json::serialize(*a);
    if (const json::value* cs = st->get_object().if_contains("conditions"); cs && cs->is_array()) {
      for (const auto& c : cs->get_array()) {
        if (!c.is_object()) continue;
        const json::object& co = c.get_object();
        const json::value* type = co.if_contains("type");
        const json::value* status = co.if_contains("status");
        if (!type || !status || !status->is_string()) continue;
        fingerprint += json::serialize(*type) + json::serialize(*status);
        namesRefused = namesRefused || (*type == "NamesAccepted" && *status == "False");
      }
    }
  }
  const json::value* groupValue =
      spec && spec->is_object() ? spec->get_object().if_contains("group") : nullptr;
  std::string group =
      groupValue && groupValue->is_string() ? std::string(groupValue->get_string()) : std::string();
  groups_[name] = group;
  if (namesRefused) {
    refused_.insert(name);
  } else {
    refused_.erase(name);
  }
  if (fingerprints_[name] != fingerprint) {
    bool changed = !fingerprints_[name].empty();
    fingerprints_[name] = fingerprint;
    if (changed) requeueGroup(group, name);
    auto types = resourcesOf(crd, hooks_.webhookClient);
    if (types.empty()) {
      core::unregisterResources(name);
    } else {
      std::string group = types.front().group, plural = types.front().plural;
      std::string storage = types.front().storageVersion;
      std::string prefix = types.front().storagePrefix;
      core::registerResources(name, std::move(types));
      // The catalogue's own entry: its address stays valid for the cache to keep.
      if (const auto* srt = core::findResource(group, storage, plural)) hooks_.ensureCache(*srt);
      if (auto it = prefixes_.find(name); it != prefixes_.end() && it->second != prefix)
        hooks_.retireCache(it->second);
      prefixes_[name] = prefix;
    }
  }
  const json::value* meta = crd.if_contains("metadata");
  if (meta && meta->is_object() && meta->get_object().contains("deletionTimestamp")) {
    std::lock_guard lock(mu_);
    terminating_.insert(name);
    cv_.notify_all();
  }
}

void Controller::requeueGroup(const std::string& group, const std::string& except) {
  if (group.empty()) return;
  std::lock_guard lock(mu_);
  for (const auto& n : refused_) {
    if (n != except && groups_[n] == group) refresh_.insert(n);
  }
  if (!refresh_.empty()) cv_.notify_all();
}

void Controller::start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { runCleanup(); });
}

void Controller::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Controller::runCleanup() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (!refresh_.empty()) {
      std::set<std::string> names;
      names.swap(refresh_);
      lock.unlock();
      for (const auto& n : names) {
        if (hooks_.refreshStatus) (void)hooks_.refreshStatus(n);
      }
      lock.lock();
      continue;
    }
    if (terminating_.empty()) {
      cv_.wait(lock);
      continue;
    }
    std::set<std::string> names = terminating_;
    lock.unlock();
    bool pending = false;
    for (const auto& n : names) pending = !cleanupOne(n) || pending;
    lock.lock();
    // Objects with finalizers of their own are waited for, as upstream's finalizer controller
    // does; poll again shortly.
    if (pending) cv_.wait_for(lock, std::chrono::milliseconds(500));
  }
}

// Deletes the CRD's objects; once none is left, releases the CRD. True when done.
bool Controller::cleanupOne(const std::string& crdName) {
  // Every served version shares one storage: deleting through the storage version is enough.
  for (const auto& rt : core::allResources()) {
    if (rt.storagePrefix == "/registry/" + crdName + "/" && rt.isStorageVersion()) {
      auto left = hooks_.deleteAll(rt);
      if (!left.ok() || *left > 0) return false;
      break;
    }
  }
  auto st = hooks_.removeFinalizer(crdName);
  if (!st.ok() && !st.isNotFound()) return false;
  std::lock_guard lock(mu_);
  terminating_.erase(crdName);
  return true;
}

}  // namespace berth::apiserver::crd
