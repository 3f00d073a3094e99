#pragma once
// The NodeRestriction admission plugin (upstream plugin/pkg/admission/noderestriction): a node
// (system:node:<name> in group system:nodes) may change only its own Node object and Lease, only
// pods bound to it (mirror pods to create, status, eviction, delete), and may not set or change
// labels under node-restriction.kubernetes.io/ on its Node. Berth-specific: the only
// EndpointSlices a node writes are its DNS server's, kube-dns-<node> (and kube-dns-<node>-ipv6
// on a dual-stack node), and the only PersistentVolume
// change it makes is dropping the local-path clean-up finalizer of a volume labelled for it
// (core/local_path.h). Other requesters pass untouched.
//
// Thread-safety: stateless; safe from request threads.
#include "apiserver/admission/admission.h"

namespace berth::apiserver::authz {

class NodeRestrictionPlugin : public admission::Plugin {
 public:
  std::string_view name() const override { return "NodeRestriction"; }
  core::Status validate(const admission::Attributes& a) override;
};

}  // namespace berth::apiserver::authz
