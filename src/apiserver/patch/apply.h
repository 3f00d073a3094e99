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
//    and message `Apply failed with N conflict(s): conflict with "mgr": .spec.replicas`, unless
//    force=true, which takes ownership.
//  - On create (no live object) the applied object is the new object.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "core/resources.h"
#include "core/result.h"

namespace berth::apiserver::patch {

struct ApplyOptions {
  std::string manager;  // fieldManager query parameter; required for apply
  bool force = false;
  std::string time;     // RFC 3339 timestamp stamped into managedFields
};

// Returns the merged object (managedFields updated). `live` is null on create.
core::Result<boost::json::object> serverSideApply(const boost::json::object* live,
                                                  const boost::json::object& applied,
                                                  const core::ResourceType& rt,
                                                  const ApplyOptions& options);

// After a non-apply write (create, update, patch) by `manager`, records in `updated`'s
// managedFields that `manager` (operation "Update") owns the fields that changed from `old`
// (every field when old is null), and removes those fields from other managers' sets.
void recordUpdate(boost::json::object& updated, const boost::json::object* old,
                  const core::ResourceType& rt, std::string_view manager, std::string_view time);

}  // namespace berth::apiserver::patch
