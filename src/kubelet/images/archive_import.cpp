#include "kubelet/images/archive_import.h"

#include <archive.h>
#include <archive_entry.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "kubelet/images/digest.h"
#include "kubelet/images/layer_unpack.h"
#include "kubelet/images/reference.h"

namespace berth::kubelet::images {

using core::Status;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// The archive's regular files saved flat under a temp dir, and its symlinks resolved by name
// (never created on disk, so none can point an extraction elsewhere).
class ArchiveFiles {
 public:
  explicit ArchiveFiles(std::string dir) : dir_(std::move(dir)) {}
  ~ArchiveFiles() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Status load(const std::string& path);
  // The on-disk copy of archive member `name`, following symlinks; empty when absent.
  std::string find(std::string name) const;
  core::Result<std::string> read(const std::string& name, size_t maxBytes) const;

 private:
  std::string dir_;
  std::map<std::string, std::string> files_;     // clean name → temp file
  std::map<std::string, std::string> symlinks_;  // clean name → clean target
};

Status ArchiveFiles::load(const std::string& path) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Status::badRequest("cannot read " + path + ": " + archive_error_string(a.get()));
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::internal("mkdir " + dir_ + ": " + ec.message());
  archive_entry* e;
  for (int r; (r = archive_read_next_header(a.get(), &e)) != ARCHIVE_EOF;) {
    if (r < ARCHIVE_WARN) return Status::badRequest(path + ": " + archive_error_string(a.get()));
    std::string name;
    const char* raw = archive_entry_pathname(e);
    if (!raw || !cleanLayerPath(raw, &name) || name.empty()) continue;
    if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
      std::string target = archive_entry_symlink(e);
      auto slash = name.rfind('/');
      if (!target.empty() && target.front() != '/' && slash != std::string::npos)
        target = name.substr(0, slash + 1) + target;
      std::string clean;
      if (cleanLayerPath(target, &clean)) symlinks_[name] = clean;
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string file = dir_ + "/" + std::to_string(files_.size());
    std::ofstream out(file, std::ios::binary);
    char buf[1 << 16];
    for (la_ssize_t n; (n = archive_read_data(a.get(), buf, sizeof buf)) != 0;) {
      if (n < 0) return Status::badRequest(path + ": " + archive_error_string(a.get()));
      out.write(buf, n);
    }
    if (!out) return Status::internal("write " + file + " failed");
    files_[name] = file;
  }
  return {};
}

std::string ArchiveFiles::find(std::string name) const {
  std::string clean;
  if (!cleanLayerPath(name, &clean)) return {};
  for (int hops = 0; hops < 16; ++hops) {
    if (auto f = files_.find(clean); f != files_.end()) return f->second;
    auto l = symlinks_.find(clean);
    if (l == symlinks_.end()) return {};
    clean = l->second;
  }
  return {};
}

core::Result<std::string> ArchiveFiles::read(const std::string& name, size_t maxBytes) const {
  std::string file = find(name);
  std::error_code ec;
  if (file.empty()) return Status::badRequest("the archive has no " + name.substr(0, 200));
  if (fs::file_size(file, ec) > maxBytes) return Status::badRequest(name + " is too large");
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Copies an archive member into the store's blobs (the member may serve several images).
core::Result<std::string> storeMember(const ArchiveFiles& files, const std::string& name,
                                      const std::string& expectedDigest, ContentStore& store) {
  std::string file = files.find(name);
  if (file.empty()) return Status::badRequest("the archive has no " + name.substr(0, 200));
  if (!expectedDigest.empty() && store.hasBlob(expectedDigest)) return expectedDigest;
  std::string tmp = store.tempPath("import");
  std::error_code ec;
  fs::copy_file(file, tmp, ec);
  if (ec) return Status::internal("copy " + name + ": " + ec.message());
  return store.commitBlob(tmp, expectedDigest);
}

// Record for a config + layers whose blobs are in the store; checks the counts agree.
core::Result<ImageRecord> recordFor(const std::string& configDigest,
                                    std::vector<LayerRecord> layers, ContentStore& store) {
  auto body = store.readBlob(configDigest, kMaxManifestBytes * 4);
  if (!body.ok()) return body.status();
  auto config = parseImageConfig(*body);
  if (!config.ok()) return config.status();
  if (config->diffIds.size() != layers.size())
    return Status::badRequest("image config " + configDigest + " lists " +
                              std::to_string(config->diffIds.size()) + " layers, the archive " +
                              std::to_string(layers.size()));
  ImageRecord r;
  r.id = configDigest;
  for (size_t i = 0; i < layers.size(); ++i) layers[i].diffId = config->diffIds[i];
  r.layers = std::move(layers);
  return r;
}

core::Result<std::vector<ImageRecord>> importDocker(const ArchiveFiles& files,
                                                    ContentStore& store) {
  auto text = files.read("manifest.json", kMaxManifestBytes);
  if (!text.ok()) return text.status();
  std::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_array()) return Status::badRequest("manifest.json is not a JSON array");
  std::vector<ImageRecord> out;
  for (const auto& entry : v.as_array()) {
    const json::object* o = entry.if_object();
    const json::value* cfg = o ? o->if_contains("Config") : nullptr;
    const json::value* layers = o ? o->if_contains("Layers") : nullptr;
    if (!cfg || !cfg->is_string() || !layers || !layers->is_array())
      return Status::badRequest("manifest.json: an entry lacks Config or Layers");
    auto configDigest = storeMember(files, std::string(cfg->as_string()), "", store);
    if (!configDigest.ok()) return configDigest.status();
    std::vector<LayerRecord> layerRecords;
    for (const auto& l : layers->as_array()) {
      if (!l.is_string()) return Status::badRequest("manifest.json: a layer is not a string");
      auto digest = storeMember(files, std::string(l.as_string()), "", store);
      if (!digest.ok()) return digest.status();
      std::error_code sizeEc;
      auto size = fs::file_size(store.blobPath(*digest), sizeEc);
      layerRecords.push_back({*digest, sniffLayerMediaType(store.blobPath(*digest)), "",
                              static_cast<long long>(size)});
    }
    auto record = recordFor(*configDigest, std::move(layerRecords), store);
    if (!record.ok()) return record.status();
    if (auto* tags = o->if_contains("RepoTags"); tags && tags->is_array()) {
      for (const auto& t : tags->as_array()) {
        if (!t.is_string()) continue;
        auto ref = parseReference(std::string(t.as_string()));
        if (!ref.ok()) return Status::badRequest("manifest.json: " + ref.status().message());
        if (!ref->tag.empty()) record->repoTags.push_back(ref->tagged());
      }
    }
    out.push_back(std::move(*record));
  }
  return out;
}

std::string blobName(const std::string& digest) { return "blobs/sha256/" + digest.substr(7); }

core::Result<ManifestDocument> readManifest(const ArchiveFiles& files, const Descriptor& d,
                                            ContentStore& store) {
  auto stored = storeMember(files, blobName(d.digest), d.digest, store);
  if (!stored.ok()) return stored.status();
  auto body = store.readBlob(d.digest, kMaxManifestBytes);
  if (!body.ok()) return body.status();
  return parseManifest(*body, d.mediaType);
}

core::Result<std::vector<ImageRecord>> importOci(const ArchiveFiles& files, ContentStore& store,
                                                 const Platform& platform) {
  auto text = files.read("index.json", kMaxManifestBytes);
  if (!text.ok()) return text.status();
  auto index = parseManifest(*text, kOciIndex);
  if (!index.ok()) return Status::badRequest("index.json: " + index.status().message());
  if (!index->isIndex) return Status::badRequest("index.json is not an image index");
  std::vector<ImageRecord> out;
  for (const auto& top : index->manifests) {
    auto doc = readManifest(files, top, store);
    if (!doc.ok()) return doc.status();
    Descriptor manifestDesc = top;
    if (doc->isIndex) {
      auto chosen = selectPlatform(*doc, platform);
      if (!chosen.ok()) return chosen.status();
      manifestDesc = *chosen;
      doc = readManifest(files, manifestDesc, store);
      if (!doc.ok()) return doc.status();
      if (doc->isIndex) return Status::badRequest("nested image indexes are not supported");
    }
    if (!storeMember(files, blobName(doc->config.digest), doc->config.digest, store).ok())
      return Status::badRequest("config blob " + doc->config.digest + " missing or corrupt");
    std::vector<LayerRecord> layers;
    for (const auto& l : doc->layers) {
      auto stored = storeMember(files, blobName(l.digest), l.digest, store);
      if (!stored.ok()) return stored.status();
      layers.push_back({l.digest, l.mediaType, "", l.size});
    }
    auto record = recordFor(doc->config.digest, std::move(layers), store);
    if (!record.ok()) return record.status();
    record->manifestDigest = manifestDesc.digest;
    std::string name = top.annotations.count("io.containerd.image.name")
                           ? top.annotations.at("io.containerd.image.name")
                       : top.annotations.count("org.opencontainers.image.ref.name")
                           ? top.annotations.at("org.opencontainers.image.ref.name")
                           : "";
    // A bare ref.name ("1.0") is a tag without a repository: the image comes in untagged.
    if (name.find_first_of("/:") != std::string::npos) {
      auto ref = parseReference(name);
      if (!ref.ok()) return Status::badRequest("index.json: " + ref.status().message());
      if (!ref->tag.empty()) record->repoTags.push_back(ref->tagged());
      record->repoDigests.push_back(ref->repository() + "@" + top.digest);
    }
    out.push_back(std::move(*record));
  }
  return out;
}

}  // namespace

std::string sniffLayerMediaType(const std::string& blobPath) {
  std::ifstream in(blobPath, std::ios::binary);
  unsigned char m[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(m), 4);
  if (m[0] == 0x1f && m[1] == 0x8b) return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  return "application/vnd.oci.image.layer.v1.tar";
}

core::Result<std::vector<ImageRecord>> importArchive(const std::string& archivePath,
                                                     ContentStore& store,
                                                     const Platform& platform) {
  ArchiveFiles files(store.tempPath("archive"));
  if (auto st = files.load(archivePath); !st.ok()) return st;
  if (!files.find("manifest.json").empty()) return importDocker(files, store);
  if (!files.find("index.json").empty()) return importOci(files, store, platform);
  return Status::badRequest(archivePath +
                            " is neither a docker-save archive (manifest.json) nor an OCI "
                            "layout (index.json)");
}

}  // namespace berth::kubelet::images
