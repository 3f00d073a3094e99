#include "kubelet/images/content_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "kubelet/images/digest.h"
#include "kubelet/images/layer_unpack.h"
#include "kubelet/images/manifest.h"
#include "kubelet/images/reference.h"

namespace berth::kubelet::images {

using core::Status;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string hexOf(const std::string& digest) { return digest.substr(7); }

// Holds an flock on a file for its lifetime (each open is its own lock, so threads of one
// process exclude each other too).
class FileLock {
 public:
  FileLock(const std::string& path, int op) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) ::flock(fd_, op);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class IndexLock : public FileLock {
 public:
  IndexLock(const std::string& root, int op) : FileLock(root + "/index.lock", op) {}
};

// The lower directories of the overlay mounts this process can see.
std::set<std::string> mountedLowerDirs() {
  std::set<std::string> dirs;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("lowerdir=");
    if (at == std::string::npos) continue;
    std::string list = line.substr(at + 9, line.find_first_of(", ", at) - at - 9);
    for (size_t start = 0; start <= list.size();) {
      auto colon = list.find(':', start);
      if (colon == std::string::npos) colon = list.size();
      dirs.insert(list.substr(start, colon - start));
      start = colon + 1;
    }
  }
  return dirs;
}

json::array toArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> fromArray(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& e : v->as_array())
      if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::value recordToJson(const ImageRecord& r) {
  json::array layers;
  for (const auto& l : r.layers)
    layers.push_back(json::object{
        {"digest", l.digest}, {"mediaType", l.mediaType}, {"diffID", l.diffId}, {"size", l.size}});
  return json::object{{"id", r.id},
                      {"manifestDigest", r.manifestDigest},
                      {"repoTags", toArray(r.repoTags)},
                      {"repoDigests", toArray(r.repoDigests)},
                      {"layers", std::move(layers)}};
}

core::Result<ImageRecord> recordFromJson(const json::value& v) {
  if (!v.is_object()) return Status::internal("images.json: an image is not an object");
  const auto& o = v.as_object();
  ImageRecord r;
  r.id = str(o, "id");
  r.manifestDigest = str(o, "manifestDigest");
  r.repoTags = fromArray(o.if_contains("repoTags"));
  r.repoDigests = fromArray(o.if_contains("repoDigests"));
  if (!isValidDigest(r.id)) return Status::internal("images.json: bad image id");
  if (auto* ls = o.if_contains("layers"); ls && ls->is_array()) {
    for (const auto& lv : ls->as_array()) {
      if (!lv.is_object()) return Status::internal("images.json: a layer is not an object");
      const auto& lo = lv.as_object();
      LayerRecord l{str(lo, "digest"), str(lo, "mediaType"), str(lo, "diffID"), 0};
      if (auto* s = lo.if_contains("size"); s && s->is_int64()) l.size = s->as_int64();
      if (!isValidDigest(l.digest) || !isValidDigest(l.diffId))
        return Status::internal("images.json: bad layer digest");
      r.layers.push_back(std::move(l));
    }
  }
  return r;
}

core::Result<std::vector<ImageRecord>> readIndexFile(const std::string& path) {
  std::vector<ImageRecord> out;
  std::ifstream in(path);
  if (!in) return out;  // no index yet
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) return Status::internal(path + " is not a JSON object");
  auto* images = v.as_object().if_contains("images");
  if (!images || !images->is_array()) return out;
  for (const auto& iv : images->as_array()) {
    auto r = recordFromJson(iv);
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

void eraseValue(std::vector<std::string>& v, const std::string& s) {
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
}

}  // namespace

ContentStore::ContentStore(std::string root) : root_(std::move(root)) {}

Status ContentStore::init() {
  std::error_code ec;
  for (const char* sub : {"blobs/sha256", "layers", "tmp"}) {
    fs::create_directories(root_ + "/" + sub, ec);
    if (ec) return Status::internal("cannot create " + root_ + "/" + sub + ": " + ec.message());
  }
  return {};
}

std::string ContentStore::blobPath(const std::string& digest) const {
  return root_ + "/blobs/sha256/" + hexOf(digest);
}

bool ContentStore::hasBlob(const std::string& digest) const {
  std::error_code ec;
  return isValidDigest(digest) && fs::is_regular_file(blobPath(digest), ec);
}

std::string ContentStore::tempPath(const std::string& hint) const {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return root_ + "/tmp/" + hint + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++) + "-" + std::to_string(rng() % 1000000);
}

core::Result<std::string> ContentStore::commitBlob(const std::string& tmpPath,
                                                   const std::string& expectedDigest) {
  auto actual = sha256File(tmpPath);
  std::error_code ec;
  if (!actual.ok()) {
    fs::remove(tmpPath, ec);
    return actual.status();
  }
  if (!expectedDigest.empty() && *actual != expectedDigest) {
    fs::remove(tmpPath, ec);
    return Status::badRequest("digest mismatch: expected " + expectedDigest + ", got " + *actual);
  }
  fs::rename(tmpPath, blobPath(*actual), ec);
  if (ec) {
    fs::remove(tmpPath, ec);
    return Status::internal("store blob " + *actual + ": " + ec.message());
  }
  return actual;
}

core::Result<std::string> ContentStore::putBlob(std::string_view bytes,
                                                const std::string& expectedDigest) {
  std::string tmp = tempPath("blob");
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::internal("write " + tmp + " failed");
  }
  return commitBlob(tmp, expectedDigest);
}

core::Result<std::string> ContentStore::readBlob(const std::string& digest, size_t maxBytes) const {
  if (!isValidDigest(digest)) return Status::badRequest("invalid digest " + digest.substr(0, 80));
  std::ifstream in(blobPath(digest), std::ios::binary);
  if (!in) return Status::generic(404, "NotFound", "blob " + digest + " not found");
  std::string out;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > maxBytes) return Status::badRequest("blob " + digest + " too large");
  }
  return out;
}

std::string ContentStore::layerDir(const std::string& diffId) const {
  return root_ + "/layers/" + hexOf(diffId);
}

Status ContentStore::ensureLayer(const LayerRecord& layer) {
  std::string dest = layerDir(layer.diffId);
  std::error_code ec;
  if (fs::is_directory(dest, ec)) return {};
  if (!hasBlob(layer.digest)) return Status::internal("layer blob " + layer.digest + " missing");
  auto diffId = layerDiffId(blobPath(layer.digest));
  if (!diffId.ok()) return diffId.status();
  if (*diffId != layer.diffId)
    return Status::badRequest("layer " + layer.digest +
                              ": digest mismatch of the uncompressed "
                              "content: config says " +
                              layer.diffId + ", got " + *diffId);
  std::string tmp = tempPath("layer");
  fs::create_directories(tmp, ec);
  if (ec) return Status::internal("mkdir " + tmp + ": " + ec.message());
  ::chmod(tmp.c_str(), 0755);
  if (auto st = unpackLayer(blobPath(layer.digest), tmp); !st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  // Another puller may have won the race; its copy is as good as ours.
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    fs::remove_all(tmp, ec);
    if (!fs::is_directory(dest, ec))
      return Status::internal("rename layer into " + dest + ": " + std::strerror(err));
  }
  return {};
}

core::Result<std::vector<ImageRecord>> ContentStore::loadIndex() const {
  IndexLock lock(root_, LOCK_SH);
  return readIndexFile(root_ + "/images.json");
}

Status ContentStore::updateIndex(const std::function<Status(std::vector<ImageRecord>&)>& change) {
  IndexLock lock(root_, LOCK_EX);
  if (!lock.ok()) return Status::internal("cannot lock " + root_ + "/index.lock");
  auto index = readIndexFile(root_ + "/images.json");
  if (!index.ok()) return index.status();
  if (auto st = change(*index); !st.ok()) return st;
  json::array images;
  for (const auto& r : *index) images.push_back(recordToJson(r));
  std::string tmp = tempPath("index");
  {
    std::ofstream out(tmp);
    out << json::serialize(json::object{{"images", std::move(images)}});
    if (!out) return Status::internal("write " + tmp + " failed");
  }
  if (::rename(tmp.c_str(), (root_ + "/images.json").c_str()) != 0)
    return Status::internal(std::string("replace images.json: ") + std::strerror(errno));
  return {};
}

ContentStore::WriterLock::WriterLock(const std::string& root) {
  fd_ = ::open((root + "/gc.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ >= 0) ::flock(fd_, LOCK_SH);
}

ContentStore::WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status ContentStore::collectGarbage() {
  FileLock writers(root_ + "/gc.lock", LOCK_EX);
  IndexLock lock(root_, LOCK_EX);
  auto index = readIndexFile(root_ + "/images.json");
  if (!index.ok()) return index.status();
  std::set<std::string> blobs, layers;
  for (const auto& r : *index) {
    blobs.insert(hexOf(r.id));
    if (!r.manifestDigest.empty()) blobs.insert(hexOf(r.manifestDigest));
    for (const auto& l : r.layers) {
      blobs.insert(hexOf(l.digest));
      layers.insert(hexOf(l.diffId));
    }
  }
  // Index and manifest-list blobs are kept only while their image is: they are not recorded
  // separately, so a pull re-fetches them (they are small).
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/blobs/sha256", ec))
    if (!blobs.count(e.path().filename().string())) fs::remove(e.path(), ec);
  auto mounted = mountedLowerDirs();
  for (const auto& e : fs::directory_iterator(root_ + "/layers", ec))
    if (!layers.count(e.path().filename().string()) && !mounted.count(e.path().string()))
      fs::remove_all(e.path(), ec);
  return {};
}

core::Result<Image> ContentStore::toImage(const ImageRecord& record) const {
  auto body = readBlob(record.id, kMaxManifestBytes * 4);
  if (!body.ok()) return body.status();
  auto cfg = parseImageConfig(*body);
  if (!cfg.ok()) return cfg.status();
  Image image;
  image.id = record.id;
  image.repoTags = record.repoTags;
  image.repoDigests = record.repoDigests;
  image.config = std::move(cfg->config);
  for (const auto& l : record.layers) {
    image.size += l.size;
    image.layerDirs.push_back(layerDir(l.diffId));
  }
  return image;
}

void retag(std::vector<ImageRecord>& index, ImageRecord record) {
  for (auto& other : index) {
    if (other.id == record.id) continue;
    for (const auto& t : record.repoTags) eraseValue(other.repoTags, t);
    for (const auto& d : record.repoDigests) eraseValue(other.repoDigests, d);
  }
  for (auto& existing : index) {
    if (existing.id != record.id) continue;
    for (auto& t : record.repoTags)
      if (std::find(existing.repoTags.begin(), existing.repoTags.end(), t) ==
          existing.repoTags.end())
        existing.repoTags.push_back(t);
    for (auto& d : record.repoDigests)
      if (std::find(existing.repoDigests.begin(), existing.repoDigests.end(), d) ==
          existing.repoDigests.end())
        existing.repoDigests.push_back(d);
    if (!record.manifestDigest.empty()) existing.manifestDigest = record.manifestDigest;
    existing.layers = record.layers;
    return;
  }
  index.push_back(std::move(record));
}

}  // namespace berth::kubelet::images
