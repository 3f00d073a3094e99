#include "kubelet/local_path_cleaner.h"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "core/json_access.h"
#include "core/local_path.h"

namespace berth::kubelet {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace lp = core::localpath;

namespace {

const client::Resource kVolumes{"", "v1", "persistentvolumes", false};

const json::object& sub(const json::object& o, std::string_view key) {
  static const json::object empty;
  const json::object* v = core::objectField(o, key);
  return v ? *v : empty;
}

bool hasFinalizer(const json::object& meta) {
  const json::value* f = meta.if_contains("finalizers");
  if (!f || !f->is_array()) return false;
  const auto& a = f->as_array();
  return std::find(a.begin(), a.end(), json::value(lp::kCleanupFinalizer)) != a.end();
}

}  // namespace

bool localPathRemovable(const std::string& baseDir, const std::string& volumeName,
                        const std::string& path, std::string* why) {
  fs::path base(baseDir), p(path);
  auto refuse = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (volumeName.empty() || path.empty()) return refuse("the volume has no local path");
  if (!base.is_absolute() || base.lexically_normal() != base || base == base.root_path())
    return refuse("this node's local-path directory \"" + baseDir + "\" is not usable");
  for (const auto& part : p)
    if (part == "." || part == "..")
      return refuse("path \"" + path + "\" is not a plain absolute path");
  if (!p.is_absolute() || p.parent_path() != base)
    return refuse("path \"" + path + "\" is not in this node's local-path directory \"" + baseDir +
                  "\"");
  if (p.filename().string().rfind(volumeName + "_", 0) != 0)
    return refuse("path \"" + path + "\" is not named after volume \"" + volumeName + "\"");
  return true;
}

LocalPathCleaner::LocalPathCleaner(client::RestClient& rest, client::EventRecorder& events,
                                   std::string nodeName, std::string baseDir)
    : rest_(rest), events_(events), nodeName_(std::move(nodeName)), baseDir_(std::move(baseDir)) {
  client::InformerOptions io;
  io.labelSelector = std::string(lp::kLabelCleanupNode) + "=" + nodeName_;
  informer_ = std::make_unique<client::SharedInformer>(rest_, kVolumes, io);
  informer_->addEventHandler(client::onEveryChange(
      [this](const client::ObjectPtr& o) {
        if (!o || !o->is_object()) return;
        std::string name = core::stringField(sub(o->as_object(), "metadata"), "name");
        if (!name.empty()) queue_.add(name);
      },
      false));
}

LocalPathCleaner::~LocalPathCleaner() { stop(); }

void LocalPathCleaner::start() {
  informer_->start();
  worker_ = std::thread([this] { workerLoop(); });
}

void LocalPathCleaner::stop() {
  queue_.shutDown();
  informer_->stop();
  if (worker_.joinable()) worker_.join();
}

void LocalPathCleaner::workerLoop() {
  while (auto name = queue_.get()) {
    if (sync(*name)) {
      queue_.forget(*name);
    } else {
      queue_.addRateLimited(*name);
    }
    queue_.done(*name);
  }
}

bool LocalPathCleaner::sync(const std::string& name) {
  client::ObjectPtr cached = informer_->lister().get("", name);
  if (!cached || !cached->is_object()) return true;
  const json::object& volume = cached->as_object();
  const json::object& meta = sub(volume, "metadata");
  if (!meta.contains("deletionTimestamp") || !hasFinalizer(meta)) return true;
  const json::object& spec = sub(volume, "spec");
  std::string path = core::stringField(sub(spec, "hostPath"), "path");
  if (path.empty()) path = core::stringField(sub(spec, "local"), "path");
  json::object ref = volume;
  ref["kind"] = "PersistentVolume";
  ref["apiVersion"] = "v1";
  std::string why;
  if (!localPathRemovable(baseDir_, name, path, &why)) {
    // Permanent until an admin steps in (upstream leaves such a volume Released, too).
    events_.record(ref, "Warning", "VolumeFailedDelete",
                   "failed to delete volume " + name + " on node " + nodeName_ + ": " + why);
    return true;
  }
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) {
    events_.record(ref, "Warning", "VolumeFailedDelete",
                   "failed to delete volume " + name + ": remove " + path + ": " + ec.message());
    return false;
  }
  // Drop only our finalizer; an update with the resourceVersion we saw, so a concurrent change
  // (pv-protection dropping its own) makes us retry rather than undo it.
  json::object updated = volume;
  auto& fins = updated["metadata"].as_object()["finalizers"].as_array();
  fins.erase(std::remove(fins.begin(), fins.end(), json::value(lp::kCleanupFinalizer)), fins.end());
  auto r = rest_.update(kVolumes, "", updated);
  if (!r.ok() && !r.status().isNotFound()) {
    if (!r.status().isConflict())
      std::cerr << "berth agent: volume " << name << ": " << r.status().message() << std::endl;
    return false;
  }
  std::cerr << "berth agent: removed local-path volume " << name << " (" << path << ")"
            << std::endl;
  return true;
}

}  // namespace berth::kubelet
