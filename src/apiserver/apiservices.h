#pragma once
// The APIService objects (apiregistration.k8s.io/v1) of the group/versions this server serves
// itself, as kube-apiserver's autoregister controller keeps them: one per group/version, named
// "<version>.<group>" ("v1." for the core group), no service (Local), labelled
// kube-aggregator.kubernetes.io/automanaged=onstart, status Available=True reason Local. With
// them `kubectl get apiservices` lists every built-in API, and an aggregated API (the metrics
// API) later registers beside them through the same resource.
//
// Thread-safety: call once at start, after Registry::bootstrap.
#include "apiserver/registry.h"

namespace berth::apiserver {

// Creates the missing APIServices and marks each Available. Idempotent across restarts.
Status registerLocalApiServices(Registry& registry);

}  // namespace berth::apiserver
