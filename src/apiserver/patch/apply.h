#pragma once
// Server-side apply (PATCH with application/apply-patch+yaml) and managedFields bookkeeping.
//
// Field ownership is tracked per manager in metadata.managedFields entries
// {manager, operation: "Apply"|"Update", apiVersion, time, fieldsType: "FieldsV1", fieldsV1},
// where fieldsV1 uses upstream's field-set encoding: "f:<field>" for map keys, "k:{json}" for
// list items by merge key, "v:<json>" for set members, "." for the item itself.
//
// Apply semantics (upstream structured-merge-diff, simplified to the built-in list keys):
//  - The applied configuration is merged into the live object: fields it names are set; fields
//    the same manager applied before but omits now are removed (unless another manager owns them).
//  - A field owned by another manager whose live value differs from the applied one is a
//    conflict: 409 Conflict with details.causes[]{reason:"FieldManagerConflict", message, field}
//    and message `Apply failed with 1 conflict: conflict with "mgr" using apps/v1: .spec.replicas`
//    (upstream's wording), unless force=true, which takes ownership. Equal values are shared.
//  - On create (no live object) the applied object is the new object.
//  - Not tracked (upstream's strip set): apiVersion, kind, metadata.{name, namespace, uid,
//    resourceVersion, generation, creationTimestamp, managedFields, ...}; status too, on the main
//    resource of a kind with a status subresource (and only status on the status subresource).
//    Applied metadata.{managedFields, resourceVersion, generation, uid, creationTimestamp} and
//    status (main resource) are not merged into the object; a resourceVersion precondition is
//    the caller's to check.
//  - Lists merge with the strategic-merge keys (list_types.h), one key per list; lists without a
//    key are atomic. managedFields entries are kept one per (manager, operation, subresource, and
//    apiVersion for Update, as upstream's manager identifier) and sorted as upstream sorts them.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/resources.h"
#include "core/result.h"

namespace berth::apiserver::patch {

struct ApplyOptions {
  std::string manager;  // fieldManager query parameter; required for apply
  bool force = false;
  std::string time;         // RFC 3339 timestamp stamped into managedFields
  std::string subresource;  // "" for the main resource, or "status"
};

// Returns the merged object (managedFields updated). `live` is null on create.
// On a conflict the Status is 409 Conflict with upstream's message; core::Status cannot carry
// causes for a 409, so they are returned through `conflictCauses` when it is non-null (reason
// "FieldManagerConflict", message `conflict with "<manager>" using <apiVersion>`, field
// ".spec.replicas"). Use statusJsonWithCauses() to serialize the full metav1.Status.
core::Result<boost::json::object> serverSideApply(
    const boost::json::object* live, const boost::json::object& applied,
    const core::ResourceType& rt, const ApplyOptions& options,
    std::vector<core::StatusCause>* conflictCauses = nullptr);

// status.toJson() with details.causes set to `causes`.
boost::json::object statusJsonWithCauses(const core::Status& status,
                                         const std::vector<core::StatusCause>& causes);

// After a non-apply write (create, update, patch) by `manager`, records in `updated`'s
// managedFields that `manager` (operation "Update") owns the fields that changed from `old`
// (every field when old is null), and removes those fields from other managers' sets.
// A request that sets metadata.managedFields to [] clears them (nothing is recorded); one that
// omits them keeps old's. `subresource` is "" or "status", as for ApplyOptions.
void recordUpdate(boost::json::object& updated, const boost::json::object* old,
                  const core::ResourceType& rt, std::string_view manager, std::string_view time,
                  std::string_view subresource = "");

}  // namespace berth::apiserver::patch
