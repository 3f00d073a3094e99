#pragma once
// LocalImageService: the ImageService of one node, over a ContentStore on local disk, a
// RegistryClient for pulls and overlayfs for root filesystems. Also what `berth images` uses.
//
// Thread-safety: every method may be called from any thread; pulls of the same reference run
// once at a time (a second caller waits and then finds the image present).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kubelet/images/content_store.h"
#include "kubelet/images/image_service.h"
#include "kubelet/images/manifest.h"
#include "kubelet/images/registries_config.h"
#include "kubelet/images/registry_client.h"

namespace berth::kubelet::images {

struct ImageStoreOptions {
  std::string root;             // e.g. <data-dir>/agent/images
  RegistriesConfig registries;  // loadRegistriesConfig(<data-dir>/registries.yaml or a flag)
  Platform platform = hostPlatform();
};

class LocalImageService : public ImageService {
 public:
  // Fails when the root cannot be created.
  static core::Result<std::unique_ptr<LocalImageService>> open(ImageStoreOptions options);

  core::Result<Image> ensure(const std::string& ref, PullPolicy policy,
                             const std::vector<Credential>& credentials = {}) override;
  core::Result<Image> inspect(const std::string& ref) override;
  std::vector<Image> list() override;
  core::Status remove(const std::string& ref) override;
  core::Status mountRootfs(const Image& image, const std::string& scratchDir,
                           const std::string& target) override;
  core::Status unmountRootfs(const std::string& target) override;

  // Imports a docker-save or OCI-layout tar; returns the images it held.
  core::Result<std::vector<Image>> importArchive(const std::string& path);
  ContentStore& store() { return store_; }

 private:
  explicit LocalImageService(ImageStoreOptions options);
  // The index record `ref` names (a tag, a repo digest, an id or an id prefix of 12+ hex).
  core::Result<ImageRecord> find(const std::string& ref);
  core::Result<Image> materialize(const ImageRecord& record);  // layers unpacked, then the Image
  core::Result<Image> pull(const std::string& ref, const std::vector<Credential>& credentials);

  ImageStoreOptions options_;
  ContentStore store_;
  RegistryClient registry_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> pulling_;  // guarded by mu_, per reference
};

}  // namespace berth::kubelet::images
