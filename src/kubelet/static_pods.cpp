#include "kubelet/static_pods.h"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "client/yaml_json.h"
#include "kubelet/container_config.h"
#include "kubelet/images/digest.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

// Manifests larger than this are not pods (upstream reads any size; a bound keeps a stray big
// file in the directory from costing memory every scan).
constexpr std::uintmax_t kMaxManifestBytes = 1 << 20;

core::Status bad(const std::string& file, const std::string& why) {
  return core::Status::badRequest("static pod manifest " + file + ": " + why);
}

bool dnsLabelish(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
      return false;
  return s.front() != '-' && s.back() != '-';
}

}  // namespace

core::Result<json::object> staticPodFromManifest(std::string_view text, const std::string& file,
                                                 const std::string& nodeName) {
  auto parsed = client::yamlToJson(text);
  if (!parsed.ok()) return bad(file, parsed.status().message());
  if (!parsed->is_object()) return bad(file, "not an object");
  json::object pod = std::move(parsed->as_object());
  // (First: erasing from a json::object moves its last member, so no references are held yet.)
  pod.erase("status");
  if (str(pod, "kind") != "Pod") return bad(file, "kind is \"" + str(pod, "kind") + "\", not Pod");
  if (str(pod, "apiVersion") != "v1")
    return bad(file, "apiVersion is \"" + str(pod, "apiVersion") + "\", not v1");
  auto* metaValue = pod.if_contains("metadata");
  if (!metaValue || !metaValue->is_object()) return bad(file, "metadata.name is required");
  auto& meta = metaValue->as_object();
  std::string name = str(meta, "name");
  if (name.empty()) return bad(file, "metadata.name is required");
  const auto* spec = obj(pod, "spec");
  const auto* containers = spec ? arr(*spec, "containers") : nullptr;
  if (!containers || containers->empty()) return bad(file, "spec.containers: at least one container is required");
  for (const auto& c : *containers)
    if (!c.is_object() || str(c.as_object(), "name").empty() || str(c.as_object(), "image").empty())
      return bad(file, "spec.containers: every container needs a name and an image");

  std::string node = nodeName;
  std::transform(node.begin(), node.end(), node.begin(), ::tolower);
  // Upstream's applyDefaults: the name is suffixed with the node's, the namespace defaulted.
  std::string fullName = name + "-" + node;
  if (!dnsLabelish(fullName)) return bad(file, "metadata.name \"" + fullName + "\" is not a valid name");
  std::string ns = str(meta, "namespace");
  // Every member is looked up afresh below: inserting into or erasing from a json::object may
  // move its members, so no reference into `pod` is kept across a change.
  auto metaOf = [&pod]() -> json::object& { return pod["metadata"].as_object(); };
  auto specOf = [&pod]() -> json::object& { return pod["spec"].as_object(); };
  for (const char* field : {"uid", "resourceVersion", "ownerReferences"}) metaOf().erase(field);
  metaOf()["name"] = fullName;
  metaOf()["namespace"] = ns.empty() ? "default" : ns;
  specOf()["nodeName"] = node;

  // The UID: a hash of the pod as read, the node and the file (upstream hashes the same three).
  images::Sha256 h;
  h.update(json::serialize(pod));
  h.update("host:" + node);
  h.update("file:" + file);
  std::string hash = h.digest().substr(7, 32);  // 32 hex digits, as upstream's md5 UIDs
  metaOf()["uid"] = hash;
  if (!metaOf()["annotations"].is_object()) metaOf()["annotations"] = json::object{};
  metaOf()["annotations"].as_object()[kConfigHashAnnotation] = hash;
  metaOf()["annotations"].as_object()[kConfigSourceAnnotation] = "file";
  // Static pods tolerate every NoExecute taint: nothing evicts them but their file.
  if (!specOf()["tolerations"].is_array()) specOf()["tolerations"] = json::array{};
  specOf()["tolerations"].as_array().push_back(
      json::object{{"operator", "Exists"}, {"effect", "NoExecute"}});
  return pod;
}

json::object mirrorPodFor(const json::object& staticPod, const std::string& nodeUid) {
  json::object pod = staticPod;
  std::string hash = str(*obj(pod, "metadata"), "uid");
  std::string node = str(*obj(pod, "spec"), "nodeName");
  pod["metadata"].as_object().erase("uid");
  pod["metadata"].as_object()["annotations"].as_object()[kConfigMirrorAnnotation] = hash;
  // Owned by its Node, as upstream (1.24+): the garbage collector removes it with the Node, and
  // NodeRestriction lets a node create only mirror pods owned by itself.
  pod["metadata"].as_object()["ownerReferences"] = json::array{json::object{{"apiVersion", "v1"},
                                                     {"kind", "Node"},
                                                     {"name", node},
                                                     {"uid", nodeUid},
                                                     {"controller", true}}};
  return pod;
}

std::string mirrorHashOf(const json::object& pod) {
  const auto* meta = obj(pod, "metadata");
  const auto* ann = meta ? obj(*meta, "annotations") : nullptr;
  return ann ? str(*ann, kConfigMirrorAnnotation) : std::string();
}

StaticPodSource::StaticPodSource(std::string dir, std::string nodeName)
    : dir_(std::move(dir)), nodeName_(std::move(nodeName)) {}

std::vector<std::string> StaticPodSource::rescan() {
  std::map<std::string, StaticPod> found;
  std::set<std::string> badNow;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string base = e.path().filename().string();
    if (base.empty() || base[0] == '.') continue;  // editors' swap files, as upstream
    if (!e.is_regular_file(ec)) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> keptFiles;  // bad files whose old pod is kept
  for (const auto& path : files) {
    std::string file = path.string();
    auto size = fs::file_size(path, ec);
    core::Result<json::object> pod = bad(file, "larger than 1 MiB");
    if (!ec && size <= kMaxManifestBytes) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      pod = staticPodFromManifest(buf.str(), file, nodeName_);
    }
    if (!pod.ok()) {
      badNow.insert(file);
      if (badFiles_[file] != pod.status().message())
        std::cerr << "berth agent: " << pod.status().message() << std::endl;
      badFiles_[file] = pod.status().message();
      for (const auto& [key, sp] : pods_)
        if (sp.file == file) found[key] = sp;
      continue;
    }
    const auto& meta = *obj(*pod, "metadata");
    StaticPod sp{str(meta, "namespace") + "/" + str(meta, "name"), str(meta, "uid"), file,
                 std::move(*pod)};
    if (found.count(sp.key)) {
      std::cerr << "berth agent: static pod " << sp.key << " in " << file << " is also in "
                << found[sp.key].file << "; ignored" << std::endl;
      continue;
    }
    found[sp.key] = std::move(sp);
  }
  for (auto it = badFiles_.begin(); it != badFiles_.end();)
    it = badNow.count(it->first) ? std::next(it) : badFiles_.erase(it);
  std::vector<std::string> changed;
  for (const auto& [key, sp] : found) {
    auto old = pods_.find(key);
    if (old == pods_.end() || old->second.hash != sp.hash) changed.push_back(key);
  }
  for (const auto& [key, sp] : pods_)
    if (!found.count(key)) changed.push_back(key);
  pods_ = std::move(found);
  return changed;
}

std::optional<StaticPod> StaticPodSource::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> StaticPodSource::keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, sp] : pods_) out.push_back(key);
  return out;
}

}  // namespace berth::kubelet
