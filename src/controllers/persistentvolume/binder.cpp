// PersistentVolumeBinder: see pv_controllers.h. Upstream's pv_controller.go syncClaim /
// syncVolume, reduced to what Berth's volumes need (no in-tree deleters or recyclers).
#include <iostream>

#include "client/event_recorder.h"
#include "client/leader_election.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/persistentvolume/pv_common.h"
#include "controllers/persistentvolume/pv_controllers.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
namespace vol = core::volumes;
using client::ObjectPtr;
using namespace pv;

// "namespace/name" of the claim a volume's spec.claimRef names; "" when none.
std::string claimRefKey(const json::object& volume) {
  const auto& ref = sub(sub(volume, "spec"), "claimRef");
  if (text(ref, "name").empty()) return "";
  return text(ref, "namespace") + "/" + text(ref, "name");
}

class PersistentVolumeBinder : public Controller {
 public:
  explicit PersistentVolumeBinder(ControllerContext& ctx)
      : client_(ctx.client),
        claims_(ctx.informers.forResource(kClaims)),
        volumes_(ctx.informers.forResource(kVolumes)),
        classes_(ctx.informers.forResource(kClasses)),
        recorder_(ctx.client, "persistentvolume-controller"),
        claimWorkers_("claims", ctx.metrics, [this](const std::string& k) { return syncClaim(k); }),
        volumeWorkers_("volumes", ctx.metrics,
                       [this](const std::string& k) { return syncVolume(k); }) {
    auto claimKey = [this](const ObjectPtr& o) { claimWorkers_.enqueue(keyOf(*o)); };
    claims_.addEventHandler({claimKey,
                             [claimKey](const ObjectPtr&, const ObjectPtr& o) { claimKey(o); },
                             [this](const client::DeletedObject& d) {
                               // The volumes bound to it are Released now.
                               enqueueVolumesOf(d.object->as_object());
                             }});
    auto volumeKey = [this](const ObjectPtr& o) {
      volumeWorkers_.enqueue(keyOf(*o));
      // A new or changed volume may be what a waiting claim needs.
      if (std::string claim = claimRefKey(o->as_object()); !claim.empty()) {
        claimWorkers_.enqueue(claim);
      } else {
        for (const auto& c : claims_.lister().list(""))
          if (text(sub(c->as_object(), "spec"), "volumeName").empty())
            claimWorkers_.enqueue(keyOf(*c));
      }
    };
    volumes_.addEventHandler(
        {volumeKey, [volumeKey](const ObjectPtr&, const ObjectPtr& o) { volumeKey(o); },
         [this](const client::DeletedObject& d) {
           if (std::string claim = claimRefKey(d.object->as_object()); !claim.empty())
             claimWorkers_.enqueue(claim);
         }});
  }

  void run() override {
    claimWorkers_.start(1);
    volumeWorkers_.start(1);
  }
  void stop() override {
    claimWorkers_.stop();
    volumeWorkers_.stop();
    recorder_.flush();
  }

 private:
  // The claim's volume, and every volume whose claimRef names it (a claim deleted in the middle
  // of a bind has no volumeName yet, but its volume already points at it).
  void enqueueVolumesOf(const json::object& claim) {
    std::string name = text(sub(claim, "spec"), "volumeName");
    if (!name.empty()) volumeWorkers_.enqueue(name);
    const auto& meta = sub(claim, "metadata");
    for (const auto& v : volumes_.lister().list("")) {
      const auto& ref = sub(sub(v->as_object(), "spec"), "claimRef");
      if (text(ref, "name") == text(meta, "name") &&
          text(ref, "namespace") == text(meta, "namespace"))
        volumeWorkers_.enqueue(keyOf(*v));
    }
  }

  std::vector<const json::object*> allVolumes(std::vector<ObjectPtr>& keep) {
    keep = volumes_.lister().list("");
    std::vector<const json::object*> out;
    for (const auto& v : keep) out.push_back(&v->as_object());
    return out;
  }

  // The claim's StorageClass (null when it names none or one that does not exist).
  ObjectPtr classOf(const json::object& claim) {
    std::string name = vol::claimClass(claim);
    return name.empty() ? nullptr : classes_.lister().get("", name);
  }

  bool delayBinding(const json::object& claim) {
    if (!vol::annotation(claim, vol::kAnnSelectedNode).empty()) return false;  // node chosen
    auto cls = classOf(claim);
    return cls && text(cls->as_object(), "volumeBindingMode") == "WaitForFirstConsumer";
  }

  void event(const json::object& obj, const char* kind, std::string_view type,
             std::string_view reason, std::string_view message) {
    recorder_.record(withKind(obj, kind), type, reason, message);
  }

  // ---- claims ---------------------------------------------------------------------------------

  core::Status syncClaim(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    ObjectPtr cached = claims_.lister().get(ns, name);
    if (!cached) return {};
    const auto& claim = cached->as_object();
    if (sub(claim, "metadata").contains("deletionTimestamp")) return {};
    if (vol::annotation(claim, vol::kAnnBindCompleted).empty()) return syncUnboundClaim(claim);
    return syncBoundClaim(claim);
  }

  core::Status syncUnboundClaim(const json::object& claim) {
    std::string volumeName = text(sub(claim, "spec"), "volumeName");
    if (volumeName.empty()) {
      std::vector<ObjectPtr> keep;
      bool delay = delayBinding(claim);
      const json::object* match = vol::findMatchingVolume(claim, allVolumes(keep), nullptr, delay);
      if (match) return bind(*match, claim);
      auto cls = classOf(claim);
      std::string provisioner = cls ? text(cls->as_object(), "provisioner") : "";
      if (delay) {
        event(claim, "PersistentVolumeClaim", "Normal", "WaitForFirstConsumer",
              "waiting for first consumer to be created before binding");
      } else if (!provisioner.empty() && provisioner != "kubernetes.io/no-provisioner") {
        if (auto st = markProvisioning(claim, provisioner); !st.ok()) return st;
        event(claim, "PersistentVolumeClaim", "Normal", "ExternalProvisioning",
              "Waiting for a volume to be created either by the external provisioner '" +
                  provisioner +
                  "' or manually by the system administrator. If volume creation "
                  "is delayed, please verify that the provisioner is running and correctly "
                  "registered.");
      } else {
        event(claim, "PersistentVolumeClaim", "Normal", "FailedBinding",
              vol::claimClass(claim).empty()
                  ? "no persistent volumes available for this claim and no storage class is set"
                  : "no persistent volumes available for this claim and no provisioner is set");
      }
      return setClaimPhase(claim, "Pending");
    }
    // The user (or the scheduler) named the volume.
    ObjectPtr volume = volumes_.lister().get("", volumeName);
    if (!volume) return setClaimPhase(claim, "Pending");  // re-synced when the volume appears
    const auto& v = volume->as_object();
    if (!sub(v, "spec").contains("claimRef") || vol::volumeBoundToClaim(v, claim))
      return bind(v, claim);
    event(claim, "PersistentVolumeClaim", "Warning", "FailedBinding",
          "volume \"" + volumeName + "\" already bound to a different claim.");
    return setClaimPhase(claim, "Pending");
  }

  core::Status syncBoundClaim(const json::object& claim) {
    std::string volumeName = text(sub(claim, "spec"), "volumeName");
    ObjectPtr volume = volumeName.empty() ? nullptr : volumes_.lister().get("", volumeName);
    if (!volume) {
      if (text(sub(claim, "status"), "phase") != "Lost")
        event(claim, "PersistentVolumeClaim", "Warning", "ClaimLost",
              "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
      return setClaimPhase(claim, "Lost");
    }
    const auto& v = volume->as_object();
    if (!sub(v, "spec").contains("claimRef") || vol::volumeBoundToClaim(v, claim))
      return bind(v, claim);  // finishes an interrupted bind; no writes when all is in place
    if (text(sub(claim, "status"), "phase") != "Lost")
      event(claim, "PersistentVolumeClaim", "Warning", "ClaimMisbound",
            "Two claims are bound to the same volume, this one is bound incorrectly");
    return setClaimPhase(claim, "Lost");
  }

  core::Status markProvisioning(const json::object& claim, const std::string& provisioner) {
    if (vol::annotation(claim, vol::kAnnStorageProvisioner) == provisioner) return {};
    json::object updated = claim;
    auto& ann = annotationsOf(updated);
    ann[vol::kAnnStorageProvisioner] = provisioner;
    ann[vol::kAnnBetaStorageProvisioner] = provisioner;
    auto r = client_.update(kClaims, text(sub(claim, "metadata"), "namespace"), updated);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

  // Upstream's bind(): volume, volume status, claim, claim status; each step only when needed,
  // so a re-run after a conflict picks up where the last stopped.
  core::Status bind(const json::object& volume, const json::object& claim) {
    const auto& cmeta = sub(claim, "metadata");
    std::string ns = text(cmeta, "namespace");
    std::string volumeName = text(sub(volume, "metadata"), "name");
    json::object v = volume;
    const auto& ref = sub(sub(volume, "spec"), "claimRef");
    if (!vol::volumeBoundToClaim(volume, claim) || text(ref, "uid").empty()) {
      bool chosen = !sub(volume, "spec").contains("claimRef");
      v["spec"].as_object()["claimRef"] =
          json::object{{"kind", "PersistentVolumeClaim"},
                       {"apiVersion", "v1"},
                       {"namespace", ns},
                       {"name", text(cmeta, "name")},
                       {"uid", text(cmeta, "uid")},
                       {"resourceVersion", text(cmeta, "resourceVersion")}};
      if (chosen) annotationsOf(v)[vol::kAnnBoundByController] = "yes";
      auto r = client_.update(kVolumes, "", v);
      if (!r.ok()) return r.status();
      v = r->as_object();
    }
    if (text(sub(v, "status"), "phase") != "Bound") {
      if (auto st = setVolumePhase(v, "Bound", ""); !st.ok()) return st;
    }
    json::object c = claim;
    if (text(sub(claim, "spec"), "volumeName") != volumeName ||
        vol::annotation(claim, vol::kAnnBindCompleted) != "yes") {
      if (text(sub(claim, "spec"), "volumeName") != volumeName)
        annotationsOf(c)[vol::kAnnBoundByController] = "yes";
      c["spec"].as_object()["volumeName"] = volumeName;
      annotationsOf(c)[vol::kAnnBindCompleted] = "yes";
      auto r = client_.update(kClaims, ns, c);
      if (!r.ok()) return r.status();
      c = r->as_object();
    }
    const auto& status = sub(c, "status");
    const auto& vspec = sub(v, "spec");
    if (text(status, "phase") != "Bound" || !status.contains("capacity")) {
      json::object s = c;
      json::object st{{"phase", "Bound"}};
      if (const auto* m = vspec.if_contains("accessModes")) st["accessModes"] = *m;
      if (const auto* cap = vspec.if_contains("capacity")) st["capacity"] = *cap;
      s["status"] = std::move(st);
      auto r = client_.updateStatus(kClaims, ns, s);
      if (!r.ok()) return r.status();
    }
    return {};
  }

  core::Status setClaimPhase(const json::object& claim, const char* phase) {
    if (text(sub(claim, "status"), "phase") == phase) return {};
    json::object c = claim;
    auto& status = c["status"];
    if (!status.is_object()) status = json::object{};
    status.as_object()["phase"] = phase;
    if (std::string_view(phase) != "Bound") {
      status.as_object().erase("capacity");
      status.as_object().erase("accessModes");
    }
    auto r = client_.updateStatus(kClaims, text(sub(claim, "metadata"), "namespace"), c);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

  // ---- volumes --------------------------------------------------------------------------------

  core::Status syncVolume(const std::string& key) {
    ObjectPtr cached = volumes_.lister().get("", key);
    if (!cached) return {};
    const auto& volume = cached->as_object();
    const auto& spec = sub(volume, "spec");
    if (!spec.contains("claimRef")) return setVolumePhase(volume, "Available", "");
    const auto& ref = sub(spec, "claimRef");
    if (text(ref, "uid").empty()) return setVolumePhase(volume, "Available", "");  // pre-bound
    ObjectPtr claimObj = claims_.lister().get(text(ref, "namespace"), text(ref, "name"));
    if (claimObj && text(sub(claimObj->as_object(), "metadata"), "uid") != text(ref, "uid"))
      claimObj = nullptr;  // deleted and re-created: not the claim this volume was bound to
    if (!claimObj) {
      // The claim is gone; a fresh read guards against a cache that has not seen it yet.
      auto fresh = client_.get(kClaims, text(ref, "namespace"), text(ref, "name"));
      if (fresh.ok() && text(sub(fresh->as_object(), "metadata"), "uid") == text(ref, "uid"))
        return {};
      if (!fresh.ok() && !fresh.status().isNotFound()) return fresh.status();
      return reclaim(volume);
    }
    const auto& claim = claimObj->as_object();
    std::string claimVolume = text(sub(claim, "spec"), "volumeName");
    if (claimVolume.empty()) {
      claimWorkers_.enqueue(keyOf(*claimObj));  // being bound: the claim side finishes it
      return {};
    }
    if (claimVolume == text(sub(volume, "metadata"), "name"))
      return setVolumePhase(volume, "Bound", "");
    // The claim went to another volume: a volume the controller bound is freed again.
    if (vol::annotation(volume, vol::kAnnBoundByController) == "yes") {
      json::object v = volume;
      v["spec"].as_object().erase("claimRef");
      annotationsOf(v).erase(vol::kAnnBoundByController);
      auto r = client_.update(kVolumes, "", v);
      if (!r.ok()) return r.status();
      return setVolumePhase(r->as_object(), "Available", "");
    }
    return {};
  }

  core::Status reclaim(const json::object& volume) {
    std::string phase = text(sub(volume, "status"), "phase");
    if (phase != "Released" && phase != "Failed") {
      if (auto st = setVolumePhase(volume, "Released", ""); !st.ok()) return st;
    }
    std::string policy = text(sub(volume, "spec"), "persistentVolumeReclaimPolicy");
    if (policy != "Delete" || phase == "Failed") return {};  // Retain: kept for the admin
    // A provisioned volume is deleted by its provisioner (the local-path one in this process).
    if (!vol::annotation(volume, vol::kAnnProvisionedBy).empty()) return {};
    event(volume, "PersistentVolume", "Warning", "VolumeFailedDelete",
          "error getting deleter volume plugin for volume \"" +
              text(sub(volume, "metadata"), "name") + "\": no deletable volume plugin matched");
    return setVolumePhase(volume, "Failed", "no deletable volume plugin matched");
  }

  core::Status setVolumePhase(const json::object& volume, const char* phase,
                              const std::string& message) {
    if (text(sub(volume, "status"), "phase") == phase) return {};
    json::object v = volume;
    json::object status{{"phase", phase}, {"lastPhaseTransitionTime", client::nowTime()}};
    if (!message.empty()) status["message"] = message;
    v["status"] = std::move(status);
    auto r = client_.updateStatus(kVolumes, "", v);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

  client::RestClient& client_;
  client::SharedInformer& claims_;
  client::SharedInformer& volumes_;
  client::SharedInformer& classes_;
  client::EventRecorder recorder_;
  QueueWorkers claimWorkers_;
  QueueWorkers volumeWorkers_;
};

}  // namespace

std::unique_ptr<Controller> newPersistentVolumeBinder(ControllerContext& ctx) {
  return std::make_unique<PersistentVolumeBinder>(ctx);
}

}  // namespace berth::controllers
