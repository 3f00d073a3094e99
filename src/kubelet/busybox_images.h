#pragma once
// BusyboxImageService: a stand-in ImageService for nodes without the image store: every image
// reference resolves to one root filesystem built from the host's static busybox (bin/busybox
// plus a symlink per applet), with busybox's own image config (cmd ["sh"]). Containers get an
// overlay of it, so each has its own writable layer and the shared one stays untouched.
//
// Thread-safety: safe from any thread (the root filesystem is built once, under a mutex).
#include <mutex>
#include <string>

#include "kubelet/images/image_service.h"

namespace berth::kubelet {

class BusyboxImageService : public images::ImageService {
 public:
  // `dir`: where the root filesystem is built; `busybox`: the static binary to use.
  explicit BusyboxImageService(std::string dir, std::string busybox = "/bin/busybox");

  core::Result<images::Image> ensure(const std::string& ref, images::PullPolicy policy,
                                     const std::vector<images::Credential>& credentials) override;
  core::Result<images::Image> inspect(const std::string& ref) override;
  std::vector<images::Image> list() override;
  core::Status remove(const std::string& ref) override;
  core::Status mountRootfs(const images::Image& image, const std::string& scratchDir,
                           const std::string& target) override;
  core::Status unmountRootfs(const std::string& target) override;

  // docker's normalisation: "busybox" -> "docker.io/library/busybox:latest".
  static std::string normalize(const std::string& ref);

 private:
  core::Status buildRootfs();
  const std::string dir_, busybox_;
  std::mutex mu_;
  bool built_ = false;
  std::string digest_;
};

}  // namespace berth::kubelet
