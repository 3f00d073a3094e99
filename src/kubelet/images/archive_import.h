#pragma once
// Imports image archives into a ContentStore, verifying every digest:
//  - `docker save` tars: manifest.json ([{Config, RepoTags, Layers}]) with the config and layer
//    tars beside it (older docker: <id>/layer.tar, often symlinked between images; docker 25+:
//    blobs/sha256/<hex>);
//  - OCI image layouts: oci-layout, index.json and blobs/<alg>/<hex>; an image's name comes from
//    the io.containerd.image.name annotation or a full org.opencontainers.image.ref.name, and an
//    index entry is resolved to `platform`.
// Returns the records (not yet in the store's index). Untrusted input: a bad archive is a
// BadRequest status, never a crash or a file written outside the store.
//
// Thread-safety: reentrant.
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/images/content_store.h"
#include "kubelet/images/manifest.h"

namespace berth::kubelet::images {

core::Result<std::vector<ImageRecord>> importArchive(const std::string& archivePath,
                                                     ContentStore& store, const Platform& platform);

// Layer media type from the blob's first bytes (gzip, zstd or a plain tar).
std::string sniffLayerMediaType(const std::string& blobPath);

}  // namespace berth::kubelet::images
