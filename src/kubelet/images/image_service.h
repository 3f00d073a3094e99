#pragma once
// ImageService: what the kubelet needs from the image store (src/kubelet/images/), as the CRI's
// ImageService plus the root filesystem. Images are pulled from OCI registries over the
// distribution API or imported from archives, kept content-addressed on disk with layers
// unpacked once and shared; a container's root filesystem is an overlay of them.
//
// Errors are core::Status values whose reason is what the kubelet reports as the container's
// waiting reason: "ErrImagePull" (message: the registry's answer, e.g. "manifest unknown"),
// "ErrImageNeverPull" (policy Never and not present), "InvalidImageName".
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace berth::kubelet::images {

struct ImageConfig {  // the parts of the OCI image config a container uses
  std::vector<std::string> entrypoint, cmd, env;  // env as "K=V"
  std::string workingDir, user;
  std::map<std::string, std::string> labels;
};

struct Image {
  std::string id;                        // "sha256:<config digest>"
  std::vector<std::string> repoTags;     // "docker.io/library/busybox:latest"
  std::vector<std::string> repoDigests;  // "docker.io/library/busybox@sha256:..."
  long long size = 0;                    // bytes of the compressed layers
  ImageConfig config;
  std::vector<std::string> layerDirs;  // unpacked layers, lowest first
};

enum class PullPolicy { kAlways, kIfNotPresent, kNever };

// A registry credential from a pod's imagePullSecrets (kubernetes.io/dockerconfigjson).
struct Credential {
  std::string registry;  // host[:port]
  std::string username, password, identityToken;
};

class ImageService {
 public:
  virtual ~ImageService() = default;
  // Makes `ref` present per `policy` and returns it. `ref` is normalised as docker does
  // ("busybox" = "docker.io/library/busybox:latest").
  virtual core::Result<Image> ensure(const std::string& ref, PullPolicy policy,
                                     const std::vector<Credential>& credentials = {}) = 0;
  virtual core::Result<Image> inspect(const std::string& ref) = 0;
  virtual std::vector<Image> list() = 0;
  virtual core::Status remove(const std::string& ref) = 0;
  // Mounts an overlay of the image's layers at `target` (created if missing), with the
  // writable upper and work directories under `scratchDir`; undo with unmountRootfs.
  virtual core::Status mountRootfs(const Image& image, const std::string& scratchDir,
                                   const std::string& target) = 0;
  virtual core::Status unmountRootfs(const std::string& target) = 0;
};

}  // namespace berth::kubelet::images
