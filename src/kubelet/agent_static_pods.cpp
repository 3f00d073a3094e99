// The agent's static pods (static_pods.h): the directory scanner, and the mirror pods in the API.
#include <boost/json.hpp>

#include <filesystem>
#include <iostream>

#include "kubelet/agent.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

const client::Resource kPods{"", "v1", "pods", true};
constexpr std::chrono::milliseconds kMirrorRetry{2000};

}  // namespace

std::string Agent::nodeUid() {
  std::lock_guard lock(mu_);
  return nodeUid_;
}

void Agent::startStaticPods() {
  if (o_.podManifestPath == "none") return;
  if (o_.podManifestPath.empty()) o_.podManifestPath = o_.dataDir + "/pod-manifests";
  std::error_code ec;
  fs::create_directories(o_.podManifestPath, ec);
  staticPods_ = std::make_unique<StaticPodSource>(o_.podManifestPath, o_.nodeName);
  // The first scan before the workers start, so an agent restart finds its static pods before
  // the records it kept are synced (and not torn down as gone from the API).
  for (const auto& key : staticPods_->rescan()) queue_.add(key);
  staticPodScanner_ = std::thread([this] { staticPodLoop(); });
}

// Upstream re-reads the directory every 20 s and on inotify events; a scan of a few small files
// every second is as cheap and simpler.
void Agent::staticPodLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, o_.podManifestScan, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    for (const auto& key : staticPods_->rescan()) queue_.add(key);
    lock.lock();
  }
}

bool Agent::podTerminationRequested(const std::string& ns, const std::string& name,
                                    const std::string& uid) {
  std::string key = ns + "/" + name;
  if (auto sp = staticPods_ ? staticPods_->get(key) : std::nullopt) {
    const auto* meta = obj(sp->pod, "metadata");
    return !meta || str(*meta, "uid") != uid;  // a deleted mirror does not stop a static pod
  }
  auto pod = podInformer_ ? podInformer_->lister().get(ns, name) : nullptr;
  const auto* meta = pod && pod->is_object() ? obj(pod->as_object(), "metadata") : nullptr;
  return !meta || str(*meta, "uid") != uid || meta->contains("deletionTimestamp");
}

client::ObjectPtr Agent::podToSync(const std::string& key, const client::ObjectPtr& apiPod,
                                   std::chrono::milliseconds* again) {
  // (With static pods off every mirror is an orphan: never run, deleted.)
  auto sp = staticPods_ ? staticPods_->get(key) : std::nullopt;
  const json::object* api = apiPod && apiPod->is_object() ? &apiPod->as_object() : nullptr;
  std::string mirrorHash = api ? mirrorHashOf(*api) : "";
  auto removeMirror = [&] {
    const auto* meta = obj(*api, "metadata");
    json::value options = json::object{{"gracePeriodSeconds", 0},
                                       {"preconditions", {{"uid", str(*meta, "uid")}}}};
    auto r = rest_->remove(kPods, str(*meta, "namespace"), str(*meta, "name"), &options);
    if (!r.ok() && !r.status().isNotFound() && !r.status().isConflict()) *again = kMirrorRetry;
  };
  if (!sp) {
    // A mirror without its static pod (the file was removed while the agent ran, or before it
    // started) is deleted; it is never run.
    if (!mirrorHash.empty()) {
      removeMirror();
      return nullptr;
    }
    return apiPod;
  }
  json::object pod = sp->pod;
  if (!api) {
    auto created = rest_->create(kPods, str(*obj(pod, "metadata"), "namespace"),
                                 mirrorPodFor(pod, nodeUid()));
    if (!created.ok() && !created.status().isAlreadyExists()) {
      std::cerr << "berth agent: mirror pod " << key << ": " << created.status().message()
                << std::endl;
      *again = kMirrorRetry;
    }
  } else if (!mirrorHash.empty()) {
    const auto* meta = obj(*api, "metadata");
    if (mirrorHash != sp->hash || (meta && meta->contains("deletionTimestamp"))) {
      // An outdated mirror (the manifest changed) or one being deleted: replaced, as upstream's
      // mirror pod handling does; the new one comes with the next sync (the delete's event).
      removeMirror();
    } else if (const auto* status = obj(*api, "status")) {
      pod["status"] = *status;  // the status the agent last wrote, for transition times
    }
  }
  // An API pod of the same name that is no mirror is left alone: the static pod runs, as
  // upstream's pod manager prefers the file source.
  return std::make_shared<const json::value>(std::move(pod));
}

}  // namespace berth::kubelet
