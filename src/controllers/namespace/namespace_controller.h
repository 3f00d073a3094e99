#pragma once
// The namespace controller (upstream's pkg/controller/namespace): when a namespace is
// terminating (deletionTimestamp set; the API server only marks it), delete everything in it —
// every namespaced resource discovery lists with the delete verb, CRDs' included — wait until
// it is gone (pods in their grace period, objects held by finalizers), keep the namespace's
// deletion conditions (conditions.h) current, then remove the `kubernetes` finalizer through
// PUT namespaces/X/finalize, which lets the API server delete the namespace. A restart resumes
// every terminating namespace from the informer's first list.
//
// Thread-safety: run()/stop() from the manager's thread; syncs run on the worker threads.
#include <memory>
#include <string>

#include "controllers/framework/controller.h"
#include "controllers/framework/discovery.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/namespace/conditions.h"

namespace berth::controllers {

class NamespaceController : public Controller {
 public:
  explicit NamespaceController(ControllerContext& ctx);
  ~NamespaceController() override;
  void run() override;
  void stop() override;

 private:
  core::Status sync(const std::string& name);
  // Deletes one round of content; returns seconds to wait before checking again (0 = empty).
  long long deleteAllContent(const std::string& ns, ns::DeletionReport& report);
  long long deleteResourceContent(const ApiResource& r, const std::string& ns,
                                  ns::DeletionReport& report);
  core::Status finalize(const std::string& name);

  ControllerContext ctx_;  // a copy: the manager's context is a temporary
  client::SharedInformer& namespaces_;
  QueueWorkers workers_;
  int handlerId_ = 0;
};

}  // namespace berth::controllers
