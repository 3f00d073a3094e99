// LocalPathProvisioner: see pv_controllers.h. Mirrors k3s's bundled rancher/local-path-
// provisioner: the class, the PV it makes (hostPath + node affinity to the selected node, in
// the directory that node announces) and the clean-up on Delete. Instead of helper pods, the
// node's agent creates the directory on first mount and removes it once the provisioner has
// handed the released volume over (core/local_path.h, kubelet/local_path_cleaner.h): the
// directory lives on the node, which may be another machine.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "client/event_recorder.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/persistentvolume/pv_common.h"
#include "controllers/persistentvolume/pv_controllers.h"
#include "core/local_path.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace vol = core::volumes;
using client::ObjectPtr;
using namespace pv;
namespace lp = core::localpath;
const client::Resource kNodes{"", "v1", "nodes", false};

constexpr const char* kClassName = "local-path";
constexpr const char* kDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
constexpr const char* kClassKey = "storageclass";  // the queue key that ensures the class
constexpr const char* kClaimPrefix = "claim:";
constexpr const char* kVolumePrefix = "volume:";

class LocalPathProvisioner : public Controller {
 public:
  explicit LocalPathProvisioner(ControllerContext& ctx)
      : client_(ctx.client),
        claims_(ctx.informers.forResource(kClaims)),
        volumes_(ctx.informers.forResource(kVolumes)),
        classes_(ctx.informers.forResource(kClasses)),
        nodes_(ctx.informers.forResource(kNodes)),
        recorder_(ctx.client, kLocalPathProvisioner),
        workers_("local_path_provisioner", ctx.metrics,
                 [this](const std::string& k) { return sync(k); }) {
    auto it = ctx.flags.find("local-path-dir");
    root_ = it != ctx.flags.end() && !it->second.empty() ? it->second : "/var/lib/berth/storage";
    auto claim = [this](const ObjectPtr& o) { workers_.enqueue(kClaimPrefix + keyOf(*o)); };
    claims_.addEventHandler(client::onEveryChange(claim, false));
    auto volume = [this](const ObjectPtr& o) { workers_.enqueue(kVolumePrefix + keyOf(*o)); };
    volumes_.addEventHandler(client::onEveryChange(volume, false));
    classes_.addEventHandler({nullptr, nullptr, [this](const client::DeletedObject& d) {
                                if (keyOf(*d.object) == kClassName) workers_.enqueue(kClassKey);
                              }});
    nodes_.addEventHandler({nullptr, nullptr, [this](const client::DeletedObject& d) {
                              enqueueVolumesOf(keyOf(*d.object));
                            }});
  }

  void run() override {
    workers_.enqueue(kClassKey);
    workers_.start(1);
  }
  void stop() override {
    workers_.stop();
    recorder_.flush();
  }

 private:
  core::Status sync(const std::string& key) {
    if (key == kClassKey) return ensureClass();
    if (key.rfind(kClaimPrefix, 0) == 0) return syncClaim(key.substr(std::strlen(kClaimPrefix)));
    if (key.rfind(kVolumePrefix, 0) == 0) return syncVolume(key.substr(std::strlen(kVolumePrefix)));
    return {};
  }

  // k3s ships local-path as the default class; it is marked default unless another class
  // already is, and never rewritten once it exists (an admin may have changed it).
  core::Status ensureClass() {
    if (classes_.lister().get("", kClassName)) return {};
    bool haveDefault = false;
    for (const auto& c : classes_.lister().list(""))
      if (vol::annotation(c->as_object(), kDefaultClassAnnotation) == "true") haveDefault = true;
    json::object meta{{"name", kClassName}};
    if (!haveDefault) meta["annotations"] = json::object{{kDefaultClassAnnotation, "true"}};
    json::object cls{
        {"apiVersion", "storage.k8s.io/v1"}, {"kind", "StorageClass"},
        {"metadata", std::move(meta)},       {"provisioner", kLocalPathProvisioner},
        {"reclaimPolicy", "Delete"},         {"volumeBindingMode", "WaitForFirstConsumer"}};
    auto r = client_.create(kClasses, "", cls);
    return r.ok() || r.status().isAlreadyExists() ? core::Status() : r.status();
  }

  core::Status syncClaim(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    ObjectPtr cached = claims_.lister().get(ns, name);
    if (!cached) return {};
    const auto& claim = cached->as_object();
    const auto& meta = sub(claim, "metadata");
    if (meta.contains("deletionTimestamp") || !text(sub(claim, "spec"), "volumeName").empty())
      return {};
    std::string className = vol::claimClass(claim);
    ObjectPtr cls = className.empty() ? nullptr : classes_.lister().get("", className);
    if (!cls || text(cls->as_object(), "provisioner") != kLocalPathProvisioner) return {};
    std::string uid = text(meta, "uid");
    std::string pvName = "pvc-" + uid;
    if (volumes_.lister().get("", pvName)) return {};
    std::string node = vol::annotation(claim, vol::kAnnSelectedNode);
    json::value ref = withKind(claim, "PersistentVolumeClaim");
    if (node.empty()) {
      // An Immediate class gives no node; local volumes need one (k3s answers the same).
      if (text(cls->as_object(), "volumeBindingMode") != "WaitForFirstConsumer")
        recorder_.record(ref, "Warning", "ProvisioningFailed",
                         "failed to provision volume with StorageClass \"" + className +
                             "\": configuration error, no node was specified");
      return {};
    }
    recorder_.record(ref, "Normal", "Provisioning",
                     "External provisioner is provisioning volume for claim \"" + key + "\"");
    std::string path = nodeRoot(node) + "/" + pvName + "_" + ns + "_" + name;
    const auto& cspec = sub(claim, "spec");
    json::value capacity =
        json::object{{"storage", sub(sub(cspec, "resources"), "requests").contains("storage")
                                     ? sub(sub(cspec, "resources"), "requests").at("storage")
                                     : json::value("0")}};
    std::string policy = text(cls->as_object(), "reclaimPolicy");
    json::object spec{
        {"capacity", capacity},
        {"accessModes", cspec.contains("accessModes") ? cspec.at("accessModes")
                                                      : json::value(json::array{"ReadWriteOnce"})},
        {"persistentVolumeReclaimPolicy", policy.empty() ? "Delete" : policy},
        {"storageClassName", className},
        {"volumeMode", "Filesystem"},
        {"hostPath", {{"path", path}, {"type", "DirectoryOrCreate"}}},
        {"claimRef",
         {{"kind", "PersistentVolumeClaim"},
          {"apiVersion", "v1"},
          {"namespace", ns},
          {"name", name},
          {"uid", uid},
          {"resourceVersion", text(meta, "resourceVersion")}}},
        {"nodeAffinity",
         {{"required",
           {{"nodeSelectorTerms",
             json::array{json::object{
                 {"matchExpressions",
                  json::array{json::object{{"key", "kubernetes.io/hostname"},
                                           {"operator", "In"},
                                           {"values", json::array{json::string(node)}}}}}}}}}}}}};
    json::object volume{{"apiVersion", "v1"},
                        {"kind", "PersistentVolume"},
                        {"metadata",
                         {{"name", pvName},
                          {"annotations",
                           {{vol::kAnnProvisionedBy, kLocalPathProvisioner},
                            {"local.path.provisioner/selected-node", node}}}}},
                        {"spec", std::move(spec)}};
    auto r = client_.create(kVolumes, "", volume);
    if (!r.ok() && !r.status().isAlreadyExists()) {
      recorder_.record(ref, "Warning", "ProvisioningFailed",
                       "failed to provision volume with StorageClass \"" + className +
                           "\": " + r.status().message());
      return r.status();
    }
    recorder_.record(ref, "Normal", "ProvisioningSucceeded",
                     "Successfully provisioned volume " + pvName);
    return {};
  }

  // Where `node` keeps local-path volumes: the directory its agent announces (upstream's
  // per-node nodePathMap), else --local-path-dir (upstream's DEFAULT_PATH_FOR_NON_LISTED_NODES).
  std::string nodeRoot(const std::string& node) {
    if (ObjectPtr n = nodes_.lister().get("", node)) {
      fs::path dir(vol::annotation(n->as_object(), lp::kAnnLocalPathDir));
      if (dir.is_absolute() && dir.lexically_normal() == dir && dir != dir.root_path())
        return dir.string();
    }
    return root_;
  }

  // A Released Delete-policy volume this provisioner made goes, after its node has removed the
  // directory: labelled for that node and held by the clean-up finalizer, then deleted; the
  // node's agent drops the finalizer once the directory is gone (core/local_path.h). A volume
  // whose node no longer exists is deleted without clean-up, as upstream's deleteFor skips
  // the helper pod when the Node is NotFound (rancher/local-path-provisioner#480): nobody is
  // left to remove the directory, and waiting would keep the volume forever.
  core::Status syncVolume(const std::string& name) {
    ObjectPtr cached = volumes_.lister().get("", name);
    if (!cached) return {};
    const auto& volume = cached->as_object();
    if (vol::annotation(volume, vol::kAnnProvisionedBy) != kLocalPathProvisioner) return {};
    if (sub(volume, "metadata").contains("deletionTimestamp")) return releaseFromGoneNode(volume);
    if (text(sub(volume, "status"), "phase") != "Released" ||
        text(sub(volume, "spec"), "persistentVolumeReclaimPolicy") != "Delete")
      return {};
    std::string node = volumeNode(volume);
    auto gone = nodeGone(node);
    if (!gone.ok()) return gone.status();
    if (*gone) {
      std::cerr << "local-path-provisioner: node " << node << " does not exist, skipping "
                << "clean-up of volume " << name << std::endl;
    } else if (!node.empty()) {
      if (auto st = handToNode(volume, node); !st.ok()) return st;
    }
    json::value options{{"kind", "DeleteOptions"},
                        {"apiVersion", "v1"},
                        {"preconditions", {{"uid", text(sub(volume, "metadata"), "uid")}}}};
    auto r = client_.remove(kVolumes, "", name, &options);
    if (!r.ok() && !r.status().isNotFound() && !r.status().isConflict()) return r.status();
    return {};
  }

  // The node that holds the volume's directory.
  static std::string volumeNode(const json::object& volume) {
    std::string node = vol::volumePinnedNode(volume);
    if (node.empty()) node = vol::annotation(volume, "local.path.provisioner/selected-node");
    return node;
  }

  // Whether `node` is gone: not in the informer and NotFound on a live GET (the informer may
  // lag behind a Node that was just created).
  core::Result<bool> nodeGone(const std::string& node) {
    if (node.empty() || nodes_.lister().get("", node)) return false;
    auto r = client_.get(kNodes, "", node);
    if (r.ok()) return false;
    if (r.status().isNotFound()) return true;
    return r.status();
  }

  // Labels the volume for `node`'s agent and adds the clean-up finalizer.
  core::Status handToNode(const json::object& volume, const std::string& node) {
    const auto& meta = sub(volume, "metadata");
    if (text(sub(meta, "labels"), lp::kLabelCleanupNode) == node) return {};
    json::object marked = volume;
    auto& m = marked["metadata"].as_object();
    if (!m["labels"].is_object()) m["labels"] = json::object{};
    m["labels"].as_object()[lp::kLabelCleanupNode] = node;
    if (!m["finalizers"].is_array()) m["finalizers"] = json::array{};
    auto& fins = m["finalizers"].as_array();
    if (std::find(fins.begin(), fins.end(), json::value(lp::kCleanupFinalizer)) == fins.end())
      fins.push_back(lp::kCleanupFinalizer);
    auto r = client_.update(kVolumes, "", marked);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

  // A volume handed to a node for clean-up whose Node has since been deleted: no agent will
  // drop the finalizer, so the provisioner does (the directory is left where it was).
  core::Status releaseFromGoneNode(const json::object& volume) {
    const auto& meta = sub(volume, "metadata");
    const auto* fins = meta.if_contains("finalizers");
    if (!fins || !fins->is_array()) return {};
    const auto& list = fins->as_array();
    if (std::find(list.begin(), list.end(), json::value(lp::kCleanupFinalizer)) == list.end())
      return {};
    std::string node = text(sub(meta, "labels"), lp::kLabelCleanupNode);
    auto gone = nodeGone(node);
    if (!gone.ok()) return gone.status();
    if (!*gone) return {};
    std::cerr << "local-path-provisioner: node " << node << " does not exist, skipping clean-up "
              << "of volume " << text(meta, "name") << std::endl;
    json::object released = volume;
    auto& kept = released["metadata"].as_object()["finalizers"].as_array();
    kept.erase(std::remove(kept.begin(), kept.end(), json::value(lp::kCleanupFinalizer)),
               kept.end());
    auto r = client_.update(kVolumes, "", released);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

  // A Node that goes may leave volumes waiting for its clean-up: look at them again.
  void enqueueVolumesOf(const std::string& node) {
    for (const auto& v : volumes_.lister().list("")) {
      const auto& volume = v->as_object();
      if (volumeNode(volume) == node ||
          text(sub(sub(volume, "metadata"), "labels"), lp::kLabelCleanupNode) == node)
        workers_.enqueue(kVolumePrefix + keyOf(*v));
    }
  }

  client::RestClient& client_;
  client::SharedInformer& claims_;
  client::SharedInformer& volumes_;
  client::SharedInformer& classes_;
  client::SharedInformer& nodes_;
  client::EventRecorder recorder_;
  QueueWorkers workers_;
  std::string root_;
};

}  // namespace

std::unique_ptr<Controller> newLocalPathProvisioner(ControllerContext& ctx) {
  return std::make_unique<LocalPathProvisioner>(ctx);
}

}  // namespace berth::controllers
