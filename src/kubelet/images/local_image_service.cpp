#include "kubelet/images/local_image_service.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kubelet/images/archive_import.h"
#include "kubelet/images/reference.h"

namespace berth::kubelet::images {

using core::Status;
namespace fs = std::filesystem;

namespace {

Status pullError(const Status& st) {
  if (st.reason() == "ErrImagePull") return st;
  return Status::generic(st.code() ? st.code() : 500, "ErrImagePull", st.message());
}

bool isHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A pinned reference names an image by the digest it was pulled by (an index's, for a
// multi-platform image) or by its platform manifest's, within the same repository.
bool namesDigest(const ImageRecord& r, const Reference& ref) {
  if (contains(r.repoDigests, ref.digested())) return true;
  return r.manifestDigest == ref.digest &&
         std::any_of(r.repoDigests.begin(), r.repoDigests.end(),
                     [&](const std::string& d) { return d.starts_with(ref.repository() + "@"); });
}

}  // namespace

LocalImageService::LocalImageService(ImageStoreOptions options)
    : options_(std::move(options)),
      store_(options_.root),
      registry_(options_.registries, options_.platform) {}

core::Result<std::unique_ptr<LocalImageService>> LocalImageService::open(
    ImageStoreOptions options) {
  std::unique_ptr<LocalImageService> s(new LocalImageService(std::move(options)));
  if (auto st = s->store_.init(); !st.ok()) return st;
  return s;
}

core::Result<ImageRecord> LocalImageService::find(const std::string& text) {
  auto index = store_.loadIndex();
  if (!index.ok()) return index.status();
  // An image id, whole ("sha256:<hex>") or a prefix of at least 12 hex digits, as docker takes.
  std::string hex = text.starts_with("sha256:") ? text.substr(7) : text;
  if (isHex(hex) && hex.size() >= 12) {
    for (const auto& r : *index)
      if (r.id.compare(7, hex.size(), hex) == 0) return r;
  }
  auto ref = parseReference(text);
  if (!ref.ok()) return ref.status();
  for (const auto& r : *index)
    if (ref->digest.empty() ? contains(r.repoTags, ref->tagged()) : namesDigest(r, *ref)) return r;
  return Status::generic(404, "NotFound", "image \"" + text + "\" not found");
}

core::Result<Image> LocalImageService::materialize(const ImageRecord& record) {
  for (const auto& l : record.layers)
    if (auto st = store_.ensureLayer(l); !st.ok()) return st;
  return store_.toImage(record);
}

core::Result<Image> LocalImageService::pull(const std::string& text,
                                            const std::vector<Credential>& credentials) {
  auto ref = parseReference(text);
  if (!ref.ok()) return ref.status();
  std::shared_ptr<std::mutex> gate;
  {
    std::lock_guard lock(mu_);
    auto& g = pulling_[ref->string()];
    if (!g) g = std::make_shared<std::mutex>();
    gate = g;
  }
  std::lock_guard pullLock(*gate);
  auto writing = store_.lockForWriting();
  auto record = registry_.pull(*ref, credentials, store_);
  if (!record.ok()) return pullError(record.status());
  auto image = materialize(*record);
  if (!image.ok()) return pullError(image.status());
  auto st = store_.updateIndex([&](std::vector<ImageRecord>& index) {
    retag(index, *record);
    return Status();
  });
  if (!st.ok()) return st;
  return image;
}

core::Result<Image> LocalImageService::ensure(const std::string& text, PullPolicy policy,
                                              const std::vector<Credential>& credentials) {
  auto ref = parseReference(text);
  if (!ref.ok()) return ref.status();  // reason InvalidImageName
  auto present = find(text);
  if (!present.ok() && !present.status().isNotFound()) return present.status();
  switch (policy) {
    case PullPolicy::kNever:
      if (!present.ok())
        return Status::generic(
            404, "ErrImageNeverPull",
            "Container image \"" + text + "\" is not present with pull policy of Never");
      return materialize(*present);
    case PullPolicy::kIfNotPresent:
      if (present.ok()) return materialize(*present);
      break;
    case PullPolicy::kAlways:
      // Content named by digest cannot change: nothing to ask the registry.
      if (present.ok() && !ref->digest.empty()) return materialize(*present);
      break;
  }
  return pull(text, credentials);
}

core::Result<Image> LocalImageService::inspect(const std::string& ref) {
  auto record = find(ref);
  if (!record.ok()) return record.status();
  return store_.toImage(*record);
}

std::vector<Image> LocalImageService::list() {
  std::vector<Image> out;
  auto index = store_.loadIndex();
  if (!index.ok()) return out;
  for (const auto& r : *index)
    if (auto image = store_.toImage(r); image.ok()) out.push_back(std::move(*image));
  return out;
}

Status LocalImageService::remove(const std::string& ref) {
  auto record = find(ref);
  if (!record.ok()) return record.status();
  std::string id = record->id;
  auto st = store_.updateIndex([&](std::vector<ImageRecord>& index) {
    index.erase(std::remove_if(index.begin(), index.end(),
                               [&](const ImageRecord& r) { return r.id == id; }),
                index.end());
    return Status();
  });
  if (!st.ok()) return st;
  return store_.collectGarbage();
}

core::Result<std::vector<Image>> LocalImageService::importArchive(const std::string& path) {
  auto writing = store_.lockForWriting();
  auto records = images::importArchive(path, store_, options_.platform);
  if (!records.ok()) return records.status();
  std::vector<Image> out;
  for (const auto& r : *records) {
    auto image = materialize(r);
    if (!image.ok()) return image.status();
    out.push_back(std::move(*image));
  }
  auto st = store_.updateIndex([&](std::vector<ImageRecord>& index) {
    for (const auto& r : *records) retag(index, r);
    return Status();
  });
  if (!st.ok()) return st;
  return out;
}

Status LocalImageService::mountRootfs(const Image& image, const std::string& scratchDir,
                                      const std::string& target) {
  std::error_code ec;
  std::string upper = scratchDir + "/upper", work = scratchDir + "/work";
  for (const auto& d : {upper, work, target}) {
    fs::create_directories(d, ec);
    if (ec) return Status::internal("mkdir " + d + ": " + ec.message());
  }
  std::string lower;
  std::vector<std::string> dirs = image.layerDirs;
  if (dirs.empty()) {  // overlay needs a lower layer: an empty one for an image without layers
    dirs.push_back(store_.root() + "/empty");
    fs::create_directories(dirs.back(), ec);
  }
  // overlayfs lists the top layer first; layerDirs are lowest first.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (!fs::is_directory(*it, ec)) return Status::internal("layer " + *it + " is not unpacked");
    if (!lower.empty()) lower += ':';
    lower += *it;
  }
  std::string options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  for (const auto& p : {scratchDir, lower})
    if (p.find(',') != std::string::npos)
      return Status::badRequest("overlay paths must not contain ',': " + p);
  if (options.size() >= 4096)
    return Status::badRequest("too many layers for one overlay mount (" +
                              std::to_string(dirs.size()) + ")");
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
    return Status::internal("mount overlay at " + target + ": " + std::strerror(errno));
  return {};
}

Status LocalImageService::unmountRootfs(const std::string& target) {
  if (::umount2(target.c_str(), 0) == 0) return {};
  if (errno == EINVAL || errno == ENOENT) return {};  // not mounted (any more)
  if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH) == 0) return {};
  return Status::internal("unmount " + target + ": " + std::strerror(errno));
}

}  // namespace berth::kubelet::images
