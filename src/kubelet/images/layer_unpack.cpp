#include "kubelet/images/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "kubelet/images/digest.h"

namespace berth::kubelet::images {

using core::Status;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ReadCloser>;
using WriteArchive = std::unique_ptr<archive, WriteCloser>;

Status archiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Status::internal(what + ": " + (msg ? msg : "unknown error"));
}

core::Result<ReadArchive> openLayer(const std::string& path, bool raw) {
  ReadArchive a(archive_read_new());
  archive_read_support_filter_all(a.get());
  if (raw) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_empty(a.get());
  }
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return archiveError(a.get(), "open layer " + path);
  return a;
}

// Whether every directory from `root` down to `root/rel` is a real directory (not a symlink),
// creating missing ones: the check that keeps whiteouts and files inside the layer.
Status ensureRealDirs(const std::string& root, const std::string& rel) {
  std::string path = root;
  size_t start = 0;
  while (start < rel.size()) {
    auto end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    path += "/" + rel.substr(start, end - start);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        return Status::internal("mkdir " + path + ": " + std::strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      return Status::badRequest("layer entry goes through a non-directory: " + path);
    }
    start = end + 1;
  }
  return {};
}

// Drops xattrs in overlay's namespace: a layer must not steer the overlay mount.
void dropOverlayXattrs(archive_entry* e) {
  std::vector<std::pair<std::string, std::string>> keep;
  const char* name;
  const void* value;
  size_t size;
  bool dropped = false;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (std::string_view(name).starts_with("trusted.overlay.")) {
      dropped = true;
      continue;
    }
    keep.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  if (!dropped) return;
  archive_entry_xattr_clear(e);
  for (const auto& [n, v] : keep) archive_entry_xattr_add_entry(e, n.c_str(), v.data(), v.size());
}

Status applyWhiteout(const std::string& dest, const std::string& parent, std::string_view base) {
  if (auto st = ensureRealDirs(dest, parent); !st.ok()) return st;
  std::string dir = parent.empty() ? dest : dest + "/" + parent;
  if (base == kOpaqueWhiteout) {
    if (::setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
      return Status::internal("set opaque on " + dir + ": " + std::strerror(errno));
    return {};
  }
  std::string name(base.substr(kWhiteoutPrefix.size()));
  if (name.empty() || name == "." || name == "..")
    return Status::badRequest("layer has an invalid whiteout " + std::string(base));
  std::string target = dir + "/" + name;
  std::error_code ec;
  fs::remove_all(target, ec);
  if (::mknod(target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    return Status::internal("whiteout " + target + ": " + std::strerror(errno));
  return {};
}

Status copyData(archive* in, archive* out, const std::string& name) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_WARN) return archiveError(in, "read " + name);
    if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
      return archiveError(out, "write " + name);
  }
}

}  // namespace

bool cleanLayerPath(const std::string& name, std::string* clean) {
  clean->clear();
  size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string_view comp = std::string_view(name).substr(start, end - start);
    if (comp == "..") return false;
    if (!comp.empty() && comp != ".") {
      if (!clean->empty()) *clean += '/';
      *clean += comp;
    }
    start = end + 1;
  }
  return true;
}

core::Result<std::string> layerDiffId(const std::string& blobPath) {
  auto a = openLayer(blobPath, /*raw=*/true);
  if (!a.ok()) return a.status();
  archive_entry* entry;
  Sha256 hash;
  if (archive_read_next_header(a->get(), &entry) != ARCHIVE_OK)
    return archiveError(a->get(), "read layer " + blobPath);
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a->get(), buf, sizeof buf);
    if (n < 0) return archiveError(a->get(), "decompress layer " + blobPath);
    if (n == 0) break;
    hash.update(std::string_view(buf, static_cast<size_t>(n)));
  }
  return hash.digest();
}

core::Status unpackLayer(const std::string& blobPath, const std::string& destDir) {
  auto in = openLayer(blobPath, /*raw=*/false);
  if (!in.ok()) return in.status();
  WriteArchive out(archive_write_disk_new());
  // No archive_write_disk_set_standard_lookup: ownership stays numeric, as in the image.
  archive_write_disk_set_options(
      out.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_UNLINK |
                     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(in->get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archiveError(in->get(), "read layer " + blobPath);
    std::string rel;
    const char* rawName = archive_entry_pathname(entry);
    if (!rawName || !cleanLayerPath(rawName, &rel))
      return Status::badRequest("layer entry escapes the root: " +
                                std::string(rawName ? rawName : ""));
    if (rel.empty()) continue;  // the root itself: the layer directory keeps its own mode
    auto slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string_view base =
        std::string_view(rel).substr(slash == std::string::npos ? 0 : slash + 1);
    if (base.starts_with(kWhiteoutPrefix)) {
      if (auto st = applyWhiteout(destDir, parent, base); !st.ok()) return st;
      continue;
    }
    if (auto st = ensureRealDirs(destDir, parent); !st.ok()) return st;
    std::string full = destDir + "/" + rel;
    archive_entry_copy_pathname(entry, full.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      std::string target;
      if (!cleanLayerPath(link, &target) || target.empty())
        return Status::badRequest("layer hard link escapes the root: " + std::string(link));
      std::string fullTarget = destDir + "/" + target;
      archive_entry_copy_hardlink(entry, fullTarget.c_str());
    }
    dropOverlayXattrs(entry);
    r = archive_write_header(out.get(), entry);
    if (r < ARCHIVE_WARN) return archiveError(out.get(), "unpack " + rel);
    if (archive_entry_size(entry) > 0 && r >= ARCHIVE_WARN)
      if (auto st = copyData(in->get(), out.get(), rel); !st.ok()) return st;
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return archiveError(out.get(), "unpack " + rel);
  }
  if (archive_write_close(out.get()) < ARCHIVE_WARN) return archiveError(out.get(), "unpack");
  return {};
}

}  // namespace berth::kubelet::images
