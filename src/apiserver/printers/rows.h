#pragma once
// Internal: the row printers behind rowCells(), one per kind, each the counterpart of an
// upstream print<Kind> function in pkg/printers/internalversion/printers.go. Every printer
// returns all cells, wide (priority 1) ones included, as the upstream API server does.
//
// Thread-safety: stateless free functions.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "apiserver/printers/format.h"

namespace berth::apiserver::printers::internal {

using Cells = boost::json::array;

// Helpers shared by the row printers.
inline std::string_view name(const boost::json::object& obj) { return metaString(obj, "name"); }

inline std::string age(const boost::json::object& obj, TimePoint now) {
  return sinceField(objectAt(obj, "metadata"), "creationTimestamp", now);
}

// Iterates the object elements of an array field, skipping malformed entries.
template <typename F>
void forEachObject(const boost::json::object* o, std::string_view key, F&& f) {
  if (o == nullptr) return;
  const boost::json::array* a = arrayAt(*o, key);
  if (a == nullptr) return;
  for (const boost::json::value& v : *a) {
    if (v.is_object()) f(v.get_object());
  }
}
using RowPrinter = Cells (*)(const boost::json::object& obj, TimePoint now);

// core/v1 (rows_core.cpp)
Cells podRow(const boost::json::object& obj, TimePoint now);
Cells serviceRow(const boost::json::object& obj, TimePoint now);
Cells nodeRow(const boost::json::object& obj, TimePoint now);
Cells namespaceRow(const boost::json::object& obj, TimePoint now);
Cells eventRow(const boost::json::object& obj, TimePoint now);
Cells eventsV1EventRow(const boost::json::object& obj, TimePoint now);  // events.k8s.io/v1
Cells endpointsRow(const boost::json::object& obj, TimePoint now);
Cells configMapRow(const boost::json::object& obj, TimePoint now);
Cells secretRow(const boost::json::object& obj, TimePoint now);
Cells serviceAccountRow(const boost::json::object& obj, TimePoint now);
Cells replicationControllerRow(const boost::json::object& obj, TimePoint now);
Cells resourceQuotaRow(const boost::json::object& obj, TimePoint now);

// other groups (rows_groups.cpp)
Cells deploymentRow(const boost::json::object& obj, TimePoint now);
Cells replicaSetRow(const boost::json::object& obj, TimePoint now);
Cells daemonSetRow(const boost::json::object& obj, TimePoint now);
Cells statefulSetRow(const boost::json::object& obj, TimePoint now);
Cells controllerRevisionRow(const boost::json::object& obj, TimePoint now);
Cells jobRow(const boost::json::object& obj, TimePoint now);
Cells cronJobRow(const boost::json::object& obj, TimePoint now);
Cells hpaRow(const boost::json::object& obj, TimePoint now);
Cells ingressRow(const boost::json::object& obj, TimePoint now);
Cells ingressClassRow(const boost::json::object& obj, TimePoint now);
Cells networkPolicyRow(const boost::json::object& obj, TimePoint now);
Cells endpointSliceRow(const boost::json::object& obj, TimePoint now);
Cells leaseRow(const boost::json::object& obj, TimePoint now);
Cells priorityClassRow(const boost::json::object& obj, TimePoint now);
Cells podDisruptionBudgetRow(const boost::json::object& obj, TimePoint now);
Cells roleBindingRow(const boost::json::object& obj, TimePoint now);
// storage, certificates, admission, flow control, API registration (rows_storage.cpp)
Cells persistentVolumeRow(const boost::json::object& obj, TimePoint now);
Cells persistentVolumeClaimRow(const boost::json::object& obj, TimePoint now);
Cells storageClassRow(const boost::json::object& obj, TimePoint now);
Cells csiDriverRow(const boost::json::object& obj, TimePoint now);
Cells csiNodeRow(const boost::json::object& obj, TimePoint now);
Cells volumeAttachmentRow(const boost::json::object& obj, TimePoint now);
Cells certificateSigningRequestRow(const boost::json::object& obj, TimePoint now);
Cells webhookConfigurationRow(const boost::json::object& obj, TimePoint now);
Cells flowSchemaRow(const boost::json::object& obj, TimePoint now);
Cells priorityLevelConfigurationRow(const boost::json::object& obj, TimePoint now);
Cells apiServiceRow(const boost::json::object& obj, TimePoint now);
// Upstream's default table (apiserver registry/rest/table.go): Name and "Created At".
Cells defaultRow(const boost::json::object& obj, TimePoint now);

}  // namespace berth::apiserver::printers::internal
