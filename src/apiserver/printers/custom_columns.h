#pragma once
// Internal: the Table rows of a runtime-defined resource (a CRD version): Name, then the
// version's additionalPrinterColumns (table.cpp declares the columns), each cell computed as
// upstream's CRD table convertor does (apiextensions-apiserver
// pkg/registry/customresource/tableconvertor): integer/number/boolean cells typed, date cells as a
// human age, string cells as JSONPath prints the value, missing values null.
//
// Thread-safety: stateless free functions.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <vector>

#include "core/resource_behavior.h"

namespace berth::apiserver::printers::internal {

boost::json::array customRowCells(const std::vector<core::PrinterColumn>& columns,
                                  const boost::json::object& obj,
                                  std::chrono::system_clock::time_point now);

}  // namespace berth::apiserver::printers::internal
