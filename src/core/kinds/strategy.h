#pragma once
// Per-kind API strategy: defaulting, validation, conversion between served versions, and the
// fields a field selector may use. Mirrors upstream pkg/apis/<group>/{defaults,validation}.go and
// pkg/registry/<group>/<resource>/strategy.go for the built-in kinds in core/resources.h.
//
// Objects are JSON objects (boost::json::object) in the wire form of the ResourceType's
// version. The API server calls, for a create:
//     convertToStorage → prepareForCreate → applyDefaults → validateCreate
// and for an update (old is the stored object, already in storage form):
//     convertToStorage → prepareForUpdate → applyDefaults → validateUpdate
// Generic metadata rules (name, generateName, labels, annotations, namespace) are checked here
// too, so one call returns every invalid field.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/resources.h"
#include "core/status.h"
#include "core/validation.h"

namespace berth::core::kinds {

using FieldErrors = std::vector<StatusCause>;

// Fills upstream defaults (e.g. Pod restartPolicy Always, dnsPolicy ClusterFirst, container
// terminationMessagePath, imagePullPolicy by tag; Service type ClusterIP, sessionAffinity None,
// port protocol TCP, targetPort = port; Deployment replicas 1, strategy RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600; ...). Idempotent.
void applyDefaults(const ResourceType& rt, boost::json::object& obj);

// Create-time and update-time validation. Field paths as upstream prints them
// ("metadata.name", "spec.containers[0].image"). Empty = valid.
FieldErrors validateCreate(const ResourceType& rt, const boost::json::object& obj);
// `warnings` (may be null) collects what the kind's behavior warns about instead of refusing.
FieldErrors validateUpdate(const ResourceType& rt, const boost::json::object& obj,
                           const boost::json::object& old,
                           std::vector<std::string>* warnings = nullptr);

// Strategy hooks that reset fields a client may not set on this path, as upstream's
// PrepareForCreate/PrepareForUpdate do: on create, status is reset for kinds with a status
// subresource to what upstream serializes for an empty status (Pods get status.phase Pending and
// qosClass, Namespaces phase Active, Services/Ingresses loadBalancer {}; Nodes keep theirs), and
// kinds that track generation get metadata.generation 1; Jobs with metadata.uid get their
// generated selector and template labels unless spec.manualSelector. On a main-resource update,
// status is kept from `old`, metadata.uid/creationTimestamp are filled from `old` when omitted
// (generation: setGenerationAfterUpdate, once defaults are applied); Services keep
// their allocated clusterIP(s)/nodePorts when the client omits them; Namespaces keep
// spec.finalizers. On a status update (`statusUpdate` true), everything but status is kept from
// `old`, including metadata labels/annotations except for Pods and Nodes.
void prepareForCreate(const ResourceType& rt, boost::json::object& obj);
void prepareForUpdate(const ResourceType& rt, boost::json::object& obj,
                      const boost::json::object& old, bool statusUpdate);

// The same for a write through `subresource` ("" = the main resource, "status", or a
// kind-specific one such as a CertificateSigningRequest's "approval", which may change only
// status.conditions).
void prepareForUpdate(const ResourceType& rt, boost::json::object& obj,
                      const boost::json::object& old, std::string_view subresource);

// The authenticated user behind a write.
struct Requester {
  std::string name;
  std::vector<std::string> groups;
  std::string uid;
  std::map<std::string, std::vector<std::string>> extra;
};
// Kinds that record who created them (a CertificateSigningRequest's spec.username and
// spec.groups, as upstream's PrepareForCreate sets them from the request's user, overwriting
// what the client sent). A no-op for other kinds.
void recordRequester(const ResourceType& rt, boost::json::object& obj, const Requester& user);

// Whether a spec change bumps metadata.generation (kinds with spec: Deployment, ReplicaSet, ...).
bool tracksGeneration(const ResourceType& rt);

// The one owner of metadata.generation after an update: `next` fully prepared and defaulted,
// `old` as stored. Kinds that track it keep old's generation, plus one when the spec changed
// (a status update never changes it); other kinds carry none. (On create, prepareForCreate sets
// 1 or removes it.)
void setGenerationAfterUpdate(const ResourceType& rt, boost::json::object& next,
                              const boost::json::object& old, bool statusUpdate);

// Version conversion for resources served at several versions (autoscaling/v1 ↔ v2 HPA).
// Identity for others. Both set apiVersion. Only a runtime kind's conversion (a CRD's
// conversion webhook) can fail.
Status convertToStorage(const ResourceType& rt, boost::json::object& obj);
Status convertFromStorage(const ResourceType& rt, boost::json::object& obj);
// Many stored objects at once (one conversion webhook call for a list).
Status convertListFromStorage(const ResourceType& rt,
                              const std::vector<boost::json::object*>& objs);

// Field-selector support: the values of the selectable fields of `obj` (always
// metadata.name and, for namespaced kinds, metadata.namespace; plus e.g. pods' spec.nodeName,
// status.phase, spec.restartPolicy, spec.schedulerName, spec.serviceAccountName, status.podIP,
// status.nominatedNodeName; events' involvedObject.*, reason, type, source, reportingComponent;
// secrets' type; namespaces' status.phase; nodes' spec.unschedulable; jobs' status.successful;
// replicasets' status.replicas).
std::map<std::string, std::string> selectableFields(const ResourceType& rt,
                                                    const boost::json::object& obj);
bool isSelectableField(const ResourceType& rt, std::string_view field);

// Validation helpers shared by the strategies and the API server: core/validation's.
using validation::isDns1035Label;
using validation::isDns1123Label;
using validation::isDns1123Subdomain;
using validation::isQualifiedName;
using validation::isValidLabelValue;

}  // namespace berth::core::kinds
