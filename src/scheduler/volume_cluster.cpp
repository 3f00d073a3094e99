#include "scheduler/volume_cluster.h"

#include <boost/json.hpp>

#include "core/volume_binding.h"

namespace berth::scheduler {

namespace {

namespace json = boost::json;

const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};
const client::Resource kVolumes{"", "v1", "persistentvolumes", false};
const client::Resource kClasses{"storage.k8s.io", "v1", "storageclasses", false};

class InformerVolumeCluster : public plugins::VolumeBindingCluster {
 public:
  InformerVolumeCluster(client::RestClient& client, client::SharedInformerFactory& informers,
                        const std::function<void()>& onChange)
      : client_(client),
        claims_(informers.forResource(kClaims)),
        volumes_(informers.forResource(kVolumes)),
        classes_(informers.forResource(kClasses)) {
    for (auto* inf : {&claims_, &volumes_, &classes_}) {
      inf->addEventHandler(
          {[onChange](const client::ObjectPtr&) { onChange(); },
           [onChange](const client::ObjectPtr&, const client::ObjectPtr&) { onChange(); },
           nullptr});
    }
  }

  ObjectPtr claim(const std::string& ns, const std::string& name) const override {
    return claims_.lister().get(ns, name);
  }
  ObjectPtr storageClass(const std::string& name) const override {
    return classes_.lister().get("", name);
  }
  ObjectPtr volume(const std::string& name) const override {
    return volumes_.lister().get("", name);
  }
  std::vector<ObjectPtr> volumes() const override { return volumes_.lister().list(""); }

  core::Status selectNode(const std::string& ns, const std::string& claim,
                          const std::string& node) override {
    json::object patch{
        {"metadata", {{"annotations", json::object{{core::volumes::kAnnSelectedNode, node}}}}}};
    auto r = client_.patch(kClaims, ns, claim, client::PatchType::kMerge, json::serialize(patch));
    return r.ok() ? core::Status() : r.status();
  }

  core::Status bindVolume(const json::value& volume, const json::value& claim) override {
    json::object v = volume.as_object();
    const auto& meta = claim.at("metadata").as_object();
    auto field = [&](const char* k) {
      const auto* f = meta.if_contains(k);
      return f && f->is_string() ? json::value(f->as_string()) : json::value("");
    };
    v["spec"].as_object()["claimRef"] = json::object{{"kind", "PersistentVolumeClaim"},
                                                     {"apiVersion", "v1"},
                                                     {"namespace", field("namespace")},
                                                     {"name", field("name")},
                                                     {"uid", field("uid")},
                                                     {"resourceVersion", field("resourceVersion")}};
    auto& m = v["metadata"].as_object();
    if (!m["annotations"].is_object()) m["annotations"] = json::object{};
    m["annotations"].as_object()[core::volumes::kAnnBoundByController] = "yes";
    auto r = client_.update(kVolumes, "", v);
    return r.ok() ? core::Status() : r.status();
  }

 private:
  client::RestClient& client_;
  client::SharedInformer& claims_;
  client::SharedInformer& volumes_;
  client::SharedInformer& classes_;
};

}  // namespace

std::shared_ptr<plugins::VolumeBindingCluster> newInformerVolumeCluster(
    client::RestClient& client, client::SharedInformerFactory& informers,
    std::function<void()> onChange) {
  return std::make_shared<InformerVolumeCluster>(client, informers, onChange);
}

}  // namespace berth::scheduler
