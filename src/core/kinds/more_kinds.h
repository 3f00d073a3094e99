#pragma once
// Internal: the KindOps of the kinds added for storage, certificates, admission registration,
// flow control and API registration (storage.cpp, certificates.cpp, registration.cpp), looked up
// by strategy.cpp when the group registries in internal.h do not know a kind.
//
// Thread-safety: the returned KindOps are immutable statics.
#include <string_view>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {

// PersistentVolume, PersistentVolumeClaim (core) and storage.k8s.io kinds.
const KindOps* storageOps(std::string_view group, std::string_view kind);
// certificates.k8s.io CertificateSigningRequest.
const KindOps* certificatesOps(std::string_view group, std::string_view kind);
// admissionregistration.k8s.io webhooks, flowcontrol.apiserver.k8s.io, apiregistration.k8s.io.
const KindOps* registrationOps(std::string_view group, std::string_view kind);

// The object's spec, or an empty object when it has none (or a malformed one).
inline const json::object& specOf(const json::object& obj) {
  static const json::object kEmpty;
  const json::object* s = getObj(obj, "spec");
  return s != nullptr ? *s : kEmpty;
}

// A KindOps filled in by `fill` (for function-local statics).
template <typename Fill>
KindOps makeOps(Fill fill) {
  KindOps o;
  fill(o);
  return o;
}

inline const KindOps* moreOps(std::string_view group, std::string_view kind) {
  for (auto* lookup : {storageOps, certificatesOps, registrationOps}) {
    if (const KindOps* ops = lookup(group, kind)) return ops;
  }
  return nullptr;
}

}  // namespace berth::core::kinds::detail
