#pragma once
// The status conditions the namespace controller keeps on a terminating namespace, as upstream's
// namespace deleter does (pkg/controller/namespace/deletion/status_condition_utils.go): all five
// types are always present, True with a failure reason while something is wrong, False with
// the "ok" reason and message otherwise; lastTransitionTime moves only when status flips.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <vector>

namespace berth::controllers::ns {

// What one round of content deletion found.
struct DeletionReport {
  std::vector<std::string> discoveryFailures;       // "group/version: message"
  std::vector<std::string> contentErrors;           // one per resource whose deletion failed
  std::map<std::string, int> remainingByResource;   // "configmaps." / "widgets.example.com"
  std::map<std::string, int> remainingByFinalizer;  // finalizer → instances
};

// Sets status.conditions of `ns` (a Namespace) from the report; true when anything changed.
// `now` is an RFC 3339 time.
bool updateConditions(boost::json::object& ns, const DeletionReport& report,
                      const std::string& now);

}  // namespace berth::controllers::ns
