#include "kubelet/busybox_images.h"

#include <openssl/sha.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kubelet/runtime/sandbox.h"
#include "sys/process.h"

namespace fs = std::filesystem;

namespace berth::kubelet {

BusyboxImageService::BusyboxImageService(std::string dir, std::string busybox)
    : dir_(std::move(dir)), busybox_(std::move(busybox)) {}

std::string BusyboxImageService::normalize(const std::string& ref) {
  std::string r = ref;
  auto slash = r.find('/');
  std::string first = slash == std::string::npos ? "" : r.substr(0, slash);
  bool hasRegistry = !first.empty() && (first.find('.') != std::string::npos ||
                                        first.find(':') != std::string::npos || first == "localhost");
  if (!hasRegistry) r = "docker.io/" + (slash == std::string::npos ? "library/" + r : r);
  auto lastSlash = r.rfind('/');
  if (r.find('@') == std::string::npos && r.find(':', lastSlash) == std::string::npos)
    r += ":latest";
  return r;
}

core::Status BusyboxImageService::buildRootfs() {
  if (built_) return {};
  std::string layer = dir_ + "/rootfs";
  std::error_code ec;
  fs::create_directories(layer + "/bin", ec);
  for (const char* d : {"etc", "tmp", "proc", "sys", "dev", "root", "var", "home"})
    fs::create_directories(layer + "/" + d, ec);
  fs::permissions(layer + "/tmp", fs::perms::all | fs::perms::sticky_bit, ec);
  std::ifstream in(busybox_, std::ios::binary);
  if (!in) return core::Status::internal("cannot read " + busybox_);
  std::stringstream data;
  data << in.rdbuf();
  std::string bytes = data.str();
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
  digest_ = std::string("sha256:") + hex;
  std::string target = layer + "/bin/busybox";
  if (!fs::exists(target)) {
    fs::copy_file(busybox_, target + ".tmp", fs::copy_options::overwrite_existing, ec);
    if (ec) return core::Status::internal("copy busybox: " + ec.message());
    fs::permissions(target + ".tmp", fs::perms(0755), ec);
    fs::rename(target + ".tmp", target, ec);
  }
  auto applets = sys::runProcess({busybox_, "--list"});
  if (applets.ok() && applets->exitCode == 0) {
    std::istringstream names(applets->out);
    std::string name;
    while (names >> name) {
      if (name == "busybox" || name.find('/') != std::string::npos) continue;
      fs::path link = layer + "/bin/" + name;
      if (!fs::exists(fs::symlink_status(link))) fs::create_symlink("busybox", link, ec);
    }
  }
  std::ofstream(layer + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                          "nobody:x:65534:65534:nobody:/home:/bin/false\n";
  std::ofstream(layer + "/etc/group") << "root:x:0:\nnobody:x:65534:\n";
  built_ = true;
  return {};
}

core::Result<images::Image> BusyboxImageService::inspect(const std::string& ref) {
  std::lock_guard lock(mu_);
  if (auto st = buildRootfs(); !st.ok()) return st;
  images::Image image;
  image.id = digest_;
  image.repoTags = {normalize(ref)};
  image.repoDigests = {normalize(ref).substr(0, normalize(ref).rfind(':')) + "@" + digest_};
  image.config.cmd = {"sh"};
  image.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  image.layerDirs = {dir_ + "/rootfs"};
  return image;
}

core::Result<images::Image> BusyboxImageService::ensure(const std::string& ref,
                                                        images::PullPolicy,
                                                        const std::vector<images::Credential>&) {
  if (ref.empty()) return core::Status::generic(400, "InvalidImageName", "empty image name");
  return inspect(ref);
}

std::vector<images::Image> BusyboxImageService::list() {
  auto image = inspect("busybox");
  if (!image.ok()) return {};
  return {*image};
}

core::Status BusyboxImageService::remove(const std::string&) { return {}; }

core::Status BusyboxImageService::mountRootfs(const images::Image& image,
                                              const std::string& scratchDir,
                                              const std::string& target) {
  std::error_code ec;
  fs::create_directories(scratchDir + "/upper", ec);
  fs::create_directories(scratchDir + "/work", ec);
  fs::create_directories(target, ec);
  if (runtime::isMountPoint(target)) return {};
  std::string lower;
  // overlayfs lists lowerdirs top first; layerDirs are lowest first.
  for (auto it = image.layerDirs.rbegin(); it != image.layerDirs.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + *it;
  std::string options =
      "lowerdir=" + lower + ",upperdir=" + scratchDir + "/upper,workdir=" + scratchDir + "/work";
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
    return core::Status::internal("mount overlay on " + target + ": " + std::strerror(errno));
  return {};
}

core::Status BusyboxImageService::unmountRootfs(const std::string& target) {
  runtime::unmountIfMounted(target);
  return {};
}

}  // namespace berth::kubelet
