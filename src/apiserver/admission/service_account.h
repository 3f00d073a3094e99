#pragma once
// What the ServiceAccount plugin mounts into pods (upstream's TokenVolumeSource): shared with
// tests and with the kubelet's expectations of the kube-api-access volume.
#include <boost/json/object.hpp>

#include <cstdint>

namespace berth::apiserver::admission {

inline constexpr const char* kTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
// An hour plus 7 s: the kubelet refreshes tokens at 80 % of their life, and the odd length marks
// tokens from this projection (upstream's warnafter logic keys on it).
inline constexpr int64_t kTokenExpirationSeconds = 3607;

// The projected volume: serviceAccountToken (path token), the kube-root-ca.crt ConfigMap's
// ca.crt, and the namespace through the downward API; defaultMode 0644.
boost::json::object tokenVolumeSource();

}  // namespace berth::apiserver::admission
