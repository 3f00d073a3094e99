#pragma once
// Static pods: pods the node agent runs from manifest files in a directory
// (--pod-manifest-path, default <agent data dir>/pod-manifests as k3s's
// <data-dir>/agent/pod-manifests) rather than from the API server. As upstream's file source
// (pkg/kubelet/config/file.go, common.go): one Pod per file (YAML or JSON; names starting with
// "." are skipped), its name suffixed with "-<nodeName>", namespace "default" unless given,
// spec.nodeName set to the node, a toleration of every NoExecute taint, its UID a hash of the
// manifest, the node and the file's path, and the annotations kubernetes.io/config.source=file and
// kubernetes.io/config.hash=<UID>. The agent mirrors each into the API as a mirror pod
// (annotation kubernetes.io/config.mirror=<hash>, owned by the Node); the static pod, not the
// mirror, is what runs: deleting the mirror does not stop it (the agent recreates the mirror),
// a changed manifest is a new UID (the old pod is stopped, the new one started), a removed file
// stops it and deletes its mirror.
//
// Thread-safety: StaticPodSource is safe from any thread (one mutex over its map).
#include <boost/json/object.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::kubelet {

inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr std::string_view kConfigHashAnnotation = "kubernetes.io/config.hash";
inline constexpr std::string_view kConfigMirrorAnnotation = "kubernetes.io/config.mirror";

// The static pod of one manifest file's content (YAML or JSON) on node `nodeName`; `file` is the
// file's path (part of the hash, as upstream: the same pod in two files is two pods). Errors are
// BadRequest with a message naming what is wrong.
core::Result<boost::json::object> staticPodFromManifest(std::string_view text,
                                                        const std::string& file,
                                                        const std::string& nodeName);

// The mirror pod for a static pod (what the agent creates in the API): the static pod with
// kubernetes.io/config.mirror set, no UID, owned by the Node (nodeUid).
boost::json::object mirrorPodFor(const boost::json::object& staticPod, const std::string& nodeUid);

// Whether an API pod is a mirror pod, and its hash ("" when it is not one).
std::string mirrorHashOf(const boost::json::object& pod);

struct StaticPod {
  std::string key;   // "ns/name"
  std::string hash;  // its UID
  std::string file;
  boost::json::object pod;
};

class StaticPodSource {
 public:
  StaticPodSource(std::string dir, std::string nodeName);

  const std::string& dir() const { return dir_; }
  // Re-reads the directory. Returns the keys of the pods added, changed or removed since the
  // last scan. A file that does not parse is reported on stderr once per content, and the pod
  // it held (if any) is kept as it was, as upstream keeps the last good state of a source.
  std::vector<std::string> rescan();
  std::optional<StaticPod> get(const std::string& key) const;
  std::vector<std::string> keys() const;

 private:
  const std::string dir_, nodeName_;
  mutable std::mutex mu_;
  std::map<std::string, StaticPod> pods_;        // by key
  std::map<std::string, std::string> badFiles_;  // file -> the error last reported
};

}  // namespace berth::kubelet
