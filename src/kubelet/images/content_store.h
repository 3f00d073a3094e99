#pragma once
// The image store on disk, content-addressed under one root:
//   blobs/sha256/<hex>      manifests, configs and layer blobs, each verified against its digest
//   layers/<diffid hex>/    each layer unpacked once (layer_unpack.h) and shared by all images
//   images.json             the index: image records naming their blobs, tags and digests
//   tmp/                    downloads and unpacks in progress, renamed into place when complete
// Writers are atomic (temp + rename) and the index is read-modify-written under an flock, so
// several processes (the kubelet, `berth images`) may share one root.
//
// Thread-safety: all methods may be called from any thread.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/images/image_service.h"

namespace berth::kubelet::images {

struct LayerRecord {
  std::string digest;     // of the blob as stored (compressed or not)
  std::string mediaType;  // tells nothing the unpacker needs: it sniffs the compression
  std::string diffId;     // of the uncompressed tar, from the image config
  long long size = 0;
};

struct ImageRecord {
  std::string id;              // "sha256:<config digest hex>"
  std::string manifestDigest;  // empty for images imported from a docker-save archive
  std::vector<std::string> repoTags, repoDigests;
  std::vector<LayerRecord> layers;  // lowest first
};

class ContentStore {
 public:
  explicit ContentStore(std::string root);
  // Creates the directories; an error when the root is unusable.
  core::Status init();
  const std::string& root() const { return root_; }

  std::string blobPath(const std::string& digest) const;  // digest must be valid
  bool hasBlob(const std::string& digest) const;
  // A fresh path under tmp/ for a download or an unpack in progress.
  std::string tempPath(const std::string& hint) const;
  // Moves the finished file `tmpPath` into blobs/ once its sha256 equals `expectedDigest`
  // (any digest when empty); otherwise deletes it and fails with "digest mismatch". Returns the
  // digest.
  core::Result<std::string> commitBlob(const std::string& tmpPath,
                                       const std::string& expectedDigest);
  core::Result<std::string> putBlob(std::string_view bytes, const std::string& expectedDigest);
  core::Result<std::string> readBlob(const std::string& digest, size_t maxBytes) const;

  std::string layerDir(const std::string& diffId) const;
  // Unpacks the layer unless it already is, after checking its uncompressed digest is `diffId`.
  core::Status ensureLayer(const LayerRecord& layer);

  core::Result<std::vector<ImageRecord>> loadIndex() const;
  // Read-modify-write of the index under the lock; `change` may fail to leave it untouched.
  core::Status updateIndex(const std::function<core::Status(std::vector<ImageRecord>&)>& change);
  // Held (shared) by a pull or an import from its first blob until its image is in the index,
  // so a concurrent collectGarbage (exclusive) cannot take blobs that are not indexed yet.
  class WriterLock {
   public:
    explicit WriterLock(const std::string& root);
    ~WriterLock();
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

   private:
    int fd_ = -1;
  };
  std::unique_ptr<WriterLock> lockForWriting() { return std::make_unique<WriterLock>(root_); }
  // Deletes blobs and unpacked layers no image in the index refers to; layers under a mounted
  // overlay (in this mount namespace) are kept.
  core::Status collectGarbage();

  // The Image an index record stands for (reads and parses its config blob).
  core::Result<Image> toImage(const ImageRecord& record) const;

 private:
  std::string root_;
};

// Adds `tag` to `record` and takes it off every other image (a tag names one image), as
// `docker pull` leaves the previous holder dangling. Likewise for repo digests.
void retag(std::vector<ImageRecord>& index, ImageRecord record);

}  // namespace berth::kubelet::images
