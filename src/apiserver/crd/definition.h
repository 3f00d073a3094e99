#pragma once
// CustomResourceDefinitions (apiextensions.k8s.io/v1): the CRD kind itself (its validation,
// defaults and server-computed status, as upstream's apiextensions strategy and its naming and
// establishing controllers produce them) and the resources a CRD defines (one core::ResourceType
// per served version, with a behaviour that validates, defaults and prunes by the version's
// structural schema, prints its additionalPrinterColumns and exposes its scale paths).
//
// Thread-safety: stateless functions; behaviours are immutable.
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <vector>

#include "apiserver/webhook/client.h"
#include "core/resources.h"
#include "core/status.h"

namespace berth::apiserver::crd {

inline constexpr std::string_view kGroup = "apiextensions.k8s.io";
inline constexpr std::string_view kStoragePrefix =
    "/registry/customresourcedefinitions.apiextensions.k8s.io/";
inline constexpr std::string_view kCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

// The catalogue entry of customresourcedefinitions (cluster-scoped, short names crd/crds).
core::ResourceType crdResourceType();
// Registers crdResourceType() in the catalogue (idempotent). Call before the watch cache is built.
void installCrdKind();

// Upstream's Kubernetes-aware version order: v1 > v1beta2 > v1beta1 > v1alpha1 > other.
bool versionLess(std::string_view a, std::string_view b);

// The resources a (valid) stored CRD defines, in version priority order; the storage version is
// always included so objects can be stored. Empty when the CRD does not parse. A CRD with
// webhook conversion calls its webhook through `webhookClient`.
std::vector<core::ResourceType> resourcesOf(
    const boost::json::object& crd, std::shared_ptr<webhook::Client> webhookClient = nullptr);

// Validation of a CRD (create when old is null), with upstream's field paths.
std::vector<core::StatusCause> validateCrd(const boost::json::object& crd,
                                           const boost::json::object* old);

}  // namespace berth::apiserver::crd
