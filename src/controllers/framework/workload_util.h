#pragma once
// Helpers the workload controllers (daemonset, job, statefulset, cronjob, ttlafterfinished)
// share, mirroring upstream's pkg/controller/controller_utils.go and pkg/api/v1/pod helpers:
// owner references, pod readiness/availability, pods from templates, int-or-percent scaling,
// template hashes and metav1.Time conversion. All read JSON objects defensively: a missing or
// wrongly typed field reads as absent, never throws.
//
// Thread-safety: stateless free functions.
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "client/informer.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/pod_util.h"
#include "controllers/framework/template_hash.h"
#include "core/labels.h"
#include "core/result.h"

// In their own namespace, made visible in berth::controllers below. uidOf, isBeingDeleted,
// parseTime/formatTime, newControllerRef and the pod readiness helpers are object_util.h's and
// pod_util.h's, shared with every controller.
namespace berth::controllers::workload {

// ---- small accessors ----------------------------------------------------------------------------
const boost::json::object& emptyObject();
// obj[a][b]... as an object; emptyObject() when any step is missing.
const boost::json::object& objAt(const boost::json::value& v, std::string_view a,
                                 std::string_view b = {}, std::string_view c = {});
const boost::json::object& objAt(const boost::json::object& o, std::string_view a,
                                 std::string_view b = {}, std::string_view c = {});
std::string strAt(const boost::json::object& o, std::string_view key);
std::optional<long long> intAt(const boost::json::object& o, std::string_view key);
std::optional<bool> boolAt(const boost::json::object& o, std::string_view key);
const boost::json::object& metaOf(const boost::json::value& obj);
const boost::json::object& specOf(const boost::json::value& obj);
const boost::json::object& statusOf(const boost::json::value& obj);

// ---- owner references ---------------------------------------------------------------------------
// The ownerReference with controller=true, or null.
const boost::json::object* controllerRefOf(const boost::json::value& obj);

// The object's spec.selector as a LabelSelector; upstream treats an empty selector as "selects
// nothing" for the workload controllers, the caller checks empty().
core::Result<core::LabelSelector> specSelector(const boost::json::value& obj);

// ---- pods
// -------------------------------------------------------------------------------------------
std::string podPhase(const boost::json::value& pod);
bool isPodTerminal(const boost::json::value& pod);  // Succeeded or Failed

// A pod for `tmpl` (a PodTemplateSpec), as upstream GetPodFromTemplate: the template's labels,
// annotations, finalizers and spec; namespace `ns`; generateName "<prefix>"; the controller ref.
boost::json::object podFromTemplate(const boost::json::object& tmpl, std::string_view ns,
                                    std::string_view generateNamePrefix,
                                    const boost::json::object& controllerRef);

inline const client::Resource kPods{"", "v1", "pods", true};
inline const client::Resource kNodes{"", "v1", "nodes", false};

// Indexes an informer's objects by their controller's uid (idempotent: several controllers of
// one process may ask for it on the shared pod informer).
void addControllerUidIndex(client::SharedInformer& informer);
// Objects of that informer whose controller reference has this uid.
std::vector<client::ObjectPtr> controlledBy(const client::SharedInformer& informer,
                                            const std::string& uid);
// Those plus the namespace's objects without a controller: what a controller claims from
// (ControllerRefManager), as upstream's FilterPodsByOwner with includeOrphanedPods.
std::vector<client::ObjectPtr> ownedAndOrphans(const client::SharedInformer& informer,
                                               const std::string& ns, const std::string& uid);

// intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down.
core::Result<long long> scaledValue(const boost::json::value* intOrPercent, long long total,
                                    bool roundUp);

}  // namespace berth::controllers::workload

namespace berth::controllers {
using namespace workload;  // NOLINT: the workload controllers' shared vocabulary
}  // namespace berth::controllers
