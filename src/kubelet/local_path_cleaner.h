#pragma once
// LocalPathCleaner: the node's half of local-path volume reclaim (core/local_path.h). Upstream's
// local-path provisioner runs a helper pod on the volume's node to `rm -rf` its directory; Berth
// has no helper image it can count on, so the agent of that node does it: it watches the
// PersistentVolumes labelled for clean-up on this node (the only ones the Node authorizer lets
// it list), and for each one being deleted with the clean-up finalizer removes the directory
// and then the finalizer, so the volume goes. A volume whose directory is not a direct child of
// this node's local-path directory, named after the volume as the provisioner names it, is
// refused (upstream refuses paths outside its configured directories): it keeps its finalizer
// and gets a VolumeFailedDelete event. An agent that was down finds the waiting volumes in its
// first list.
//
// Thread-safety: start()/stop() from the owning thread; one worker thread does the work.
#include <memory>
#include <string>
#include <thread>

#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/rest_client.h"
#include "client/work_queue.h"

namespace berth::kubelet {

// Whether `path` is a directory the clean-up may remove for volume `volumeName`: a direct child
// of `baseDir` named "<volumeName>_..." (the provisioner's "<pv>_<namespace>_<claim>"), with
// no "." or ".." anywhere. Else false and *why says so.
bool localPathRemovable(const std::string& baseDir, const std::string& volumeName,
                        const std::string& path, std::string* why);

class LocalPathCleaner {
 public:
  LocalPathCleaner(client::RestClient& rest, client::EventRecorder& events, std::string nodeName,
                   std::string baseDir);
  ~LocalPathCleaner();
  void start();
  void stop();

 private:
  void workerLoop();
  // One volume: false = try again later (rate limited).
  bool sync(const std::string& name);

  client::RestClient& rest_;
  client::EventRecorder& events_;
  const std::string nodeName_;
  const std::string baseDir_;
  std::unique_ptr<client::SharedInformer> informer_;
  client::WorkQueue queue_;
  std::thread worker_;
};

}  // namespace berth::kubelet
