#pragma once
// Pod volumes on the node, under <pod dir>/volumes/<name>: emptyDir (a directory, or a tmpfs
// with sizeLimit for medium Memory), hostPath, and the projected kinds configMap, secret,
// downwardAPI and projected (incl. serviceAccountToken when the API issues tokens), and
// persistentVolumeClaim (the bound PV's hostPath/local directory, bind-mounted). Projected
// contents are written as upstream's AtomicWriter does (files under a timestamped directory,
// "..data" a symlink to it, each visible name a symlink through ..data), so a refresh swaps
// them atomically and running containers, which bind-mount the volume directory, see updates.
//
// Thread-safety: setup/teardown of one pod from one thread at a time.
#include <boost/json/object.hpp>

#include <map>
#include <string>

#include "core/result.h"
#include "kubelet/container_config.h"

namespace berth::kubelet {

// Issues service account tokens (TokenRequest); unavailable when the API has none.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual core::Result<std::string> token(const std::string& ns, const std::string& serviceAccount,
                                          const std::string& podName, const std::string& podUid,
                                          const std::string& audience,
                                          long long expirationSeconds) = 0;
};

struct PodVolume {
  std::string hostPath;
  bool readOnly = false;  // configMap/secret/downwardAPI/projected are always read-only
};

// Sets up (or refreshes) the pod's volumes; returns them by name. Errors are what the kubelet
// reports as FailedMount (e.g. a missing non-optional configMap).
core::Result<std::map<std::string, PodVolume>> setupVolumes(const boost::json::object& pod,
                                                            const std::string& podDir,
                                                            ObjectSource& objects,
                                                            TokenSource* tokens,
                                                            const PodRuntimeFacts& facts);
// Unmounts and removes the pod's volume directories (hostPath volumes are left alone).
void teardownVolumes(const std::string& podDir);

// Writes `files` (relative path -> content, mode) into `dir` atomically as described above;
// unchanged contents are left as they are. Returns whether anything changed.
core::Result<bool> writeAtomically(const std::string& dir,
                                   const std::map<std::string, std::pair<std::string, int>>& files);

}  // namespace berth::kubelet
