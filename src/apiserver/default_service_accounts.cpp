#include "apiserver/default_service_accounts.h"

#include <boost/json/parse.hpp>

#include <chrono>

#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

// "/registry/<resource>/<ns>/<name>" → {ns, name}; "/registry/namespaces/<name>" → {"", name}.
std::pair<std::string, std::string> splitKey(const std::string& key, const std::string& prefix) {
  std::string rest = key.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos) return {"", rest};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

}  // namespace

void DefaultServiceAccounts::observe(CacheSet& cache) {
  const std::string nsPrefix = "/registry/namespaces/";
  cache.addObserver(nsPrefix, [this, nsPrefix](const store::Event& e) {
    if (e.type == store::Event::Type::kPut) enqueue(splitKey(e.kv.key, nsPrefix).second);
  });
  for (std::string prefix : {"/registry/serviceaccounts/", "/registry/configmaps/"}) {
    cache.addObserver(prefix, [this, prefix](const store::Event& e) {
      if (e.type != store::Event::Type::kDelete) return;
      auto [ns, name] = splitKey(e.kv.key, prefix);
      if (name == "default" || name == "kube-root-ca.crt") enqueue(ns);
    });
  }
}

void DefaultServiceAccounts::start(Registry& registry) {
  // The namespaces known now (the built-in ones at least) are served before the server reports
  // ready, so the first pods find their ServiceAccount.
  std::deque<std::string> now;
  {
    std::lock_guard lock(mu_);
    now.swap(queue_);
    queued_.clear();
  }
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
    now.push_back(ns);
  registry_ = &registry;
  for (const auto& ns : now) ensure(ns);
  {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  worker_ = std::thread([this] { run(); });
}

void DefaultServiceAccounts::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void DefaultServiceAccounts::enqueue(std::string ns) {
  std::lock_guard lock(mu_);
  if (!queued_.insert(ns).second) return;
  queue_.push_back(std::move(ns));
  cv_.notify_one();
}

void DefaultServiceAccounts::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || (!queue_.empty() && registry_); });
    if (stopping_) return;
    std::string ns = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(ns);
    lock.unlock();
    ensure(ns);
    lock.lock();
  }
}

void DefaultServiceAccounts::ensure(const std::string& ns) {
  static const auto* nsType = core::findResource("", "v1", "namespaces");
  static const auto* saType = core::findResource("", "v1", "serviceaccounts");
  static const auto* cmType = core::findResource("", "v1", "configmaps");
  auto nsObj = registry_->get(*nsType, "", ns);
  if (!nsObj.ok()) return;  // deleted meanwhile
  {
    boost::system::error_code ec;
    auto v = json::parse((*nsObj)->json, ec);
    const auto* meta = !ec && v.is_object() ? core::objectField(v.as_object(), "metadata") : nullptr;
    if (meta && meta->contains("deletionTimestamp")) return;  // terminating: nothing new
  }
  WriteOptions opts;
  opts.fieldManager = "kube-controller-manager";
  if (!registry_->get(*saType, ns, "default").ok()) {
    json::object sa{{"apiVersion", "v1"},
                    {"kind", "ServiceAccount"},
                    {"metadata", json::object{{"name", "default"}, {"namespace", ns}}}};
    (void)registry_->create(*saType, ns, std::move(sa), opts);
  }
  if (!caPem_.empty() && !registry_->get(*cmType, ns, "kube-root-ca.crt").ok()) {
    json::object cm{
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata",
         json::object{{"name", "kube-root-ca.crt"},
                      {"namespace", ns},
                      {"annotations",
                       json::object{{"kubernetes.io/description",
                                     "Contains a CA bundle that can be used to verify the "
                                     "kube-apiserver when using internal endpoints such as the "
                                     "internal service IP or kubernetes.default.svc. No other "
                                     "usage is guaranteed across distributions of Kubernetes "
                                     "clusters."}}}}},
        {"data", json::object{{"ca.crt", caPem_}}}};
    (void)registry_->create(*cmType, ns, std::move(cm), opts);
  }
}

}  // namespace berth::apiserver
