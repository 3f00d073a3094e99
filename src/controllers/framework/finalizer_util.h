#pragma once
// Finalizer bookkeeping for controllers that guard an object's deletion with a finalizer of
// their own (upstream pkg/controller/volume/protectionutil and pkg/util/slice): an object not
// being deleted should carry it; one being deleted that still carries it waits for the
// controller to decide it may go.
//
// Thread-safety: stateless functions over immutable informer objects.
#include <boost/json/value.hpp>

#include <string_view>

namespace berth::controllers {

bool hasFinalizer(const boost::json::value& obj, std::string_view finalizer);
// Not being deleted and without the finalizer (upstream NeedToAddFinalizer).
bool needToAddFinalizer(const boost::json::value& obj, std::string_view finalizer);
// Being deleted and still holding the finalizer (upstream IsDeletionCandidate).
bool isDeletionCandidate(const boost::json::value& obj, std::string_view finalizer);

// Copies of `obj` with the finalizer appended (once) or every occurrence of it removed, for an
// update whose resourceVersion makes a stale decision fail with a Conflict.
boost::json::value withFinalizer(const boost::json::value& obj, std::string_view finalizer);
boost::json::value withoutFinalizer(const boost::json::value& obj, std::string_view finalizer);

}  // namespace berth::controllers
