#pragma once
// Name acceptance of a CustomResourceDefinition, as upstream's naming controller
// (apiextensions-apiserver pkg/controller/status/naming_controller.go) decides it: a requested
// plural, singular or short name is refused when another CRD of the same group has accepted it
// as its plural, singular or a short name; a kind or list kind when another has accepted it as
// its kind or list kind. A name the CRD accepted before stays its own. Refused names keep the
// previously accepted ones, and the NamesAccepted condition says why (PluralConflict,
// SingularConflict, ShortNamesConflict, KindConflict, ListKindConflict: "\"foo\" is already in
// use"). A CRD is Established once all its names were accepted, and stays so.
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <set>
#include <string>

namespace berth::apiserver::crd {

// The names other CRDs of a group hold.
struct UsedNames {
  std::set<std::string> resources;  // plural, singular, short names
  std::set<std::string> kinds;      // kind, list kind
};

struct NamesDecision {
  boost::json::object acceptedNames;
  bool accepted = false;
  std::string reason, message;  // of a refusal
};

// `requested`: spec.names (defaulted); `previous`: status.acceptedNames (may be empty).
NamesDecision decideNames(const boost::json::object& requested, const boost::json::object& previous,
                          const UsedNames& used);

// The names the served CRDs of `group` other than `self` (a CRD's metadata.name) hold, from the
// resource catalogue (which lists only CRDs whose names were accepted).
UsedNames usedNamesInGroup(const std::string& group, const std::string& self);

}  // namespace berth::apiserver::crd
