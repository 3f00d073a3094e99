#pragma once
// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Columns and cell formats follow
// upstream pkg/printers/internalversion/printers.go, so `kubectl get` prints what it prints
// against upstream (READY "1/1", AGE "5m12s", PORT(S) "80/TCP", <none>, ...).
//
// Thread-safety: stateless free functions.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "core/resources.h"

namespace berth::apiserver::printers {

// Column definitions ({name,type,format,description,priority}) for a resource, named as upstream
// names them ("Name", "Port(s)"; kubectl upper-cases them). Every resource has a "Name" column
// (format "name") and an age; kinds upstream has no printer for (Role, ClusterRole) get the API
// server's default table, Name and "Created At" (type "date", an RFC 3339 cell). Priority 1
// columns show only with -o wide; rows always carry them, as upstream's server prints wide.
boost::json::array columnDefinitions(const core::ResourceType& rt);

// The cells of one row for `obj` (in the resource's served version), in column order, wide
// columns included. Tolerates missing or mistyped fields.
boost::json::array rowCells(const core::ResourceType& rt, const boost::json::object& obj,
                            std::chrono::system_clock::time_point now);

// Upstream's duration.HumanDuration as kubectl shows AGE: "5s", "3m12s", "2d3h"; "<invalid>"
// for more than a second in the future.
std::string humanDuration(std::chrono::seconds d);
// AGE of an RFC 3339 timestamp relative to now; "<unknown>" when missing or unparsable.
std::string ageOf(std::string_view rfc3339, std::chrono::system_clock::time_point now);

}  // namespace berth::apiserver::printers
