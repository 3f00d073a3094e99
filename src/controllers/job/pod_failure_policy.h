#pragma once
// A Job's spec.podFailurePolicy applied to a failed pod, as upstream's matchPodFailurePolicy
// (pkg/controller/job/pod_failure_policy.go): the first rule whose onExitCodes (a terminated
// container, optionally by name, with a non-zero exit code In / NotIn the values) or
// onPodConditions (a pod condition of that type and status) matches decides: FailJob fails the
// job with a message naming the container or condition, Ignore keeps the failure out of the
// backoffLimit count, Count (and no match) counts it, FailIndex fails the pod's index.
//
// Thread-safety: stateless functions over immutable JSON.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "client/indexer.h"

namespace berth::controllers::job {

struct PolicyMatch {
  std::optional<std::string> failJobMessage;  // set for a matching FailJob rule
  bool countFailed = true;                    // false for Ignore
  std::string action;                         // the matching rule's action; "" for none
};
PolicyMatch matchPodFailurePolicy(const boost::json::value& job, const boost::json::value& pod);

// The message of the first failed pod that a FailJob rule matches (upstream getFailJobMessage).
std::optional<std::string> failJobMessage(const boost::json::value& job,
                                          const std::vector<client::ObjectPtr>& pods);

// Whether a failure of this (failed) pod counts toward backoffLimit.
bool countsAsFailure(const boost::json::value& job, const boost::json::value& pod);

}  // namespace berth::controllers::job
