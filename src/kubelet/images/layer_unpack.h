#pragma once
// Layer tarballs (uncompressed, gzip or zstd) unpacked for overlayfs. Each layer is unpacked on
// its own into its own directory and the layers are stacked by the overlay mount, so whiteouts
// are turned into overlay's own conventions instead of being applied:
//   ".wh.<name>"   → a character device 0/0 named <name> (hides <name> of lower layers)
//   ".wh..wh..opq" → the xattr trusted.overlay.opaque="y" on its directory (hides all below)
// Ownership (numeric ids, never name lookups), permissions, times, hard links and xattrs are
// kept; xattrs in overlay's trusted.overlay.* namespace coming from the layer are dropped (they
// would redirect the overlay), as are entries that would land outside the layer directory
// ("..", absolute paths, or through a symlink the layer planted).
//
// Needs root (device nodes, ownership, trusted.* xattrs). Thread-safety: reentrant.
#include <string>

#include "core/result.h"

namespace berth::kubelet::images {

// The digest of the uncompressed tar stream: the layer's DiffID.
core::Result<std::string> layerDiffId(const std::string& blobPath);

// Unpacks `blobPath` into the existing empty directory `destDir`.
core::Status unpackLayer(const std::string& blobPath, const std::string& destDir);

// The path inside a layer an entry name stands for: "./a//b/" → "a/b", "" for the root; false
// when a ".." component would climb out.
bool cleanLayerPath(const std::string& name, std::string* clean);

}  // namespace berth::kubelet::images
