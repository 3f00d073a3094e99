#pragma once
// PvProtectionController ("pv-protection", upstream pkg/controller/volume/pvprotection): keeps
// the finalizer kubernetes.io/pv-protection on every PersistentVolume (the
// StorageObjectInUseProtection admission plugin adds it on create; this adds it to volumes made
// before) and, once a volume is being deleted, removes it only when the volume is not in use
// (volumeInUse below). Emits no events, as upstream.
//
// Thread-safety: run()/stop() from the manager's thread; syncs on one QueueWorkers thread.
#include <boost/json/value.hpp>

#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

inline constexpr const char* kPvProtectionFinalizer = "kubernetes.io/pv-protection";

// Whether a volume is in use: phase Bound with a claimRef. Upstream looks at the phase only
// (the binder sets it); a Bound volume without a claimRef is a state the binder corrects to
// Available, so it does not hold the volume here.
bool volumeInUse(const boost::json::value& volume);

std::unique_ptr<Controller> newPvProtectionController(ControllerContext& ctx);

}  // namespace berth::controllers
