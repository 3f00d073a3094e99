#include "kubelet/images/manifest.h"

#include <sys/utsname.h>

#include <boost/json.hpp>

#include "kubelet/images/reference.h"

namespace berth::kubelet::images {

namespace json = boost::json;
using core::Status;

namespace {

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

core::Result<Platform> parsePlatform(const json::value& v) {
  if (!v.is_object()) return Status::badRequest("platform is not an object");
  const auto& o = v.as_object();
  return Platform{str(o, "os"), str(o, "architecture"), str(o, "variant")};
}

core::Result<Descriptor> parseDescriptor(const json::value& v, std::string_view what) {
  if (!v.is_object()) return Status::badRequest(std::string(what) + " is not an object");
  const auto& o = v.as_object();
  Descriptor d;
  d.mediaType = str(o, "mediaType");
  d.digest = str(o, "digest");
  if (!isValidDigest(d.digest))
    return Status::badRequest(std::string(what) + " has an unsupported digest \"" +
                              d.digest.substr(0, 80) + "\"");
  if (auto* s = o.if_contains("size")) {
    if (!s->is_int64() || s->as_int64() < 0)
      return Status::badRequest(std::string(what) + " has an invalid size");
    d.size = s->as_int64();
  }
  if (auto* p = o.if_contains("platform")) {
    auto platform = parsePlatform(*p);
    if (!platform.ok()) return platform.status();
    d.platform = std::move(*platform);
  }
  if (auto* a = o.if_contains("annotations"); a && a->is_object()) {
    for (const auto& [k, val] : a->as_object())
      if (val.is_string()) d.annotations[std::string(k)] = std::string(val.as_string());
  }
  return d;
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

}  // namespace

bool isLayerMediaType(std::string_view m) {
  return m.starts_with("application/vnd.oci.image.layer.") ||
         m.starts_with("application/vnd.docker.image.rootfs.");
}

core::Result<ManifestDocument> parseManifest(std::string_view body, std::string_view contentType) {
  if (body.size() > kMaxManifestBytes) return Status::badRequest("manifest too large");
  std::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Status::badRequest("manifest is not a JSON object");
  const auto& o = v.as_object();
  ManifestDocument m;
  m.mediaType = str(o, "mediaType");
  if (m.mediaType.empty()) {
    if (auto semi = contentType.find(';'); semi != std::string_view::npos)
      contentType = contentType.substr(0, semi);
    m.mediaType = std::string(contentType);
  }
  // OCI allows an omitted mediaType; the fields then say what the document is.
  if (m.mediaType.empty() || m.mediaType == "application/json")
    m.mediaType = o.contains("manifests") ? kOciIndex : kOciManifest;
  if (m.mediaType == kOciIndex || m.mediaType == kDockerManifestList) {
    m.isIndex = true;
    auto* list = o.if_contains("manifests");
    if (!list || !list->is_array()) return Status::badRequest("index has no manifests array");
    for (const auto& e : list->as_array()) {
      auto d = parseDescriptor(e, "index entry");
      if (!d.ok()) return d.status();
      m.manifests.push_back(std::move(*d));
    }
    return m;
  }
  if (m.mediaType != kOciManifest && m.mediaType != kDockerManifest)
    return Status::badRequest("unsupported manifest media type \"" + m.mediaType.substr(0, 100) +
                              "\"");
  auto* cfg = o.if_contains("config");
  if (!cfg) return Status::badRequest("manifest has no config");
  auto config = parseDescriptor(*cfg, "config");
  if (!config.ok()) return config.status();
  m.config = std::move(*config);
  auto* layers = o.if_contains("layers");
  if (!layers || !layers->is_array()) return Status::badRequest("manifest has no layers array");
  for (const auto& e : layers->as_array()) {
    auto d = parseDescriptor(e, "layer");
    if (!d.ok()) return d.status();
    if (!isLayerMediaType(d->mediaType))
      return Status::badRequest("unsupported layer media type \"" + d->mediaType.substr(0, 100) +
                                "\"");
    m.layers.push_back(std::move(*d));
  }
  return m;
}

Platform hostPlatform() {
  utsname u{};
  ::uname(&u);
  std::string machine = u.machine;
  // GOARCH names, as image platforms spell them.
  if (machine == "x86_64") return {"linux", "amd64", ""};
  if (machine == "aarch64" || machine == "arm64") return {"linux", "arm64", ""};
  if (machine.starts_with("armv7")) return {"linux", "arm", "v7"};
  if (machine.starts_with("armv6")) return {"linux", "arm", "v6"};
  if (machine == "i686" || machine == "i386") return {"linux", "386", ""};
  return {"linux", machine, ""};
}

core::Result<Descriptor> selectPlatform(const ManifestDocument& index, const Platform& want) {
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (!offered.empty()) offered += ", ";
    offered += p.string();
    if (p.os == want.os && p.architecture == want.architecture &&
        (want.variant.empty() || p.variant == want.variant))
      return d;
  }
  return Status::generic(
      404, "NotFound",
      "no match for platform " + want.string() + " in manifest list (offered: " + offered + ")");
}

core::Result<ParsedConfig> parseImageConfig(std::string_view body) {
  if (body.size() > kMaxManifestBytes * 4) return Status::badRequest("image config too large");
  std::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Status::badRequest("image config is not a JSON object");
  const auto& o = v.as_object();
  ParsedConfig p;
  p.platform = {str(o, "os"), str(o, "architecture"), str(o, "variant")};
  if (auto* c = o.if_contains("config"); c && c->is_object()) {
    const auto& co = c->as_object();
    p.config.entrypoint = strings(co, "Entrypoint");
    p.config.cmd = strings(co, "Cmd");
    p.config.env = strings(co, "Env");
    p.config.workingDir = str(co, "WorkingDir");
    p.config.user = str(co, "User");
    if (auto* l = co.if_contains("Labels"); l && l->is_object())
      for (const auto& [k, val] : l->as_object())
        if (val.is_string()) p.config.labels[std::string(k)] = std::string(val.as_string());
  }
  auto* rootfs = o.if_contains("rootfs");
  if (!rootfs || !rootfs->is_object()) return Status::badRequest("image config has no rootfs");
  p.diffIds = strings(rootfs->as_object(), "diff_ids");
  for (const auto& d : p.diffIds)
    if (!isValidDigest(d)) return Status::badRequest("image config has an unsupported diff_id");
  return p;
}

}  // namespace berth::kubelet::images
