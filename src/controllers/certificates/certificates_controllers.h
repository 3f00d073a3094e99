#pragma once
// The CertificateSigningRequest controllers of upstream's kube-controller-manager:
//   csrsigning: signs approved requests for kubernetes.io/kube-apiserver-client and
//     kubernetes.io/kube-apiserver-client-kubelet with the cluster CA (controller flags
//     cluster-signing-cert-file and cluster-signing-key-file, as upstream's; without them it
//     signs nothing), writing status.certificate, or condition Failed (SignerValidationFailure)
//     when a request breaks the signer's rules (csr_signer.h).
//   csrapproving: approves kube-apiserver-client-kubelet requests for system:node:<name> /
//     system:nodes from a bootstrap token's user (group system:bootstrappers) or from that node
//     itself (renewal), condition Approved/AutoApproved. Upstream asks a SubjectAccessReview for
//     certificatesigningrequests/nodeclient and /selfnodeclient; Berth applies what the default
//     bindings of kubeadm grant (bootstrappers: nodeclient; nodes: selfnodeclient).
//
// Thread-safety: run()/stop() from the manager's thread; syncs on the QueueWorkers threads.
#include <memory>

#include "controllers/framework/controller.h"

namespace berth::controllers {

std::unique_ptr<Controller> newCsrSigningController(ControllerContext& ctx);
std::unique_ptr<Controller> newCsrApprovingController(ControllerContext& ctx);

}  // namespace berth::controllers
