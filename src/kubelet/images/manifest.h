#pragma once
// The distribution formats a pull reads: Docker v2 schema2 manifests and manifest lists, OCI
// image manifests and indexes, and the image config. Parsing is total over untrusted bytes:
// malformed input gives a BadRequest status, never a crash; digests are checked for form here
// (they name files on disk) and for content where the bytes are fetched.
//
// Thread-safety: plain values and pure functions.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kubelet/images/image_service.h"

namespace berth::kubelet::images {

inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
// What a pull asks for: all four (docker-registry 404s OCI manifests unless both are offered).
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr size_t kMaxManifestBytes = 4 << 20;  // what containerd allows

struct Platform {
  std::string os, architecture, variant;
  std::string string() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
  }
};

struct Descriptor {
  std::string mediaType;
  std::string digest;  // validated "sha256:<hex>"
  long long size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

// Either an image manifest (config + layers) or an index / manifest list (manifests).
struct ManifestDocument {
  std::string mediaType;
  bool isIndex = false;
  Descriptor config;
  std::vector<Descriptor> layers;     // lowest first
  std::vector<Descriptor> manifests;  // for an index
};

// `contentType` is the response's Content-Type; the body's own mediaType wins when set.
core::Result<ManifestDocument> parseManifest(std::string_view body,
                                             std::string_view contentType = {});

// The platform this process runs on (linux/<GOARCH name of the machine>).
Platform hostPlatform();

// The index entry for `want`: same os and architecture, and the same variant when `want` names
// one (else the first entry, as containerd's default matcher prefers no variant then v8, v7...).
// NotFound with the platforms on offer when none matches.
core::Result<Descriptor> selectPlatform(const ManifestDocument& index, const Platform& want);

// The parts of an image config Berth uses.
struct ParsedConfig {
  ImageConfig config;
  Platform platform;
  std::vector<std::string> diffIds;  // rootfs.diff_ids, lowest first
};
core::Result<ParsedConfig> parseImageConfig(std::string_view body);

bool isLayerMediaType(std::string_view mediaType);

}  // namespace berth::kubelet::images
