#pragma once
// Indexed Jobs (completionMode Indexed), as upstream's pkg/controller/job/indexed_job_utils.go:
// each pod carries its completion index (annotation and label
// batch.kubernetes.io/job-completion-index, env JOB_COMPLETION_INDEX, hostname <job>-<index>,
// generateName <job>-<index>-); the job is done when every index in [0, completions) has a
// succeeded pod, recorded in status.completedIndexes as intervals ("0-2,4").
//
// Thread-safety: stateless free functions.
#include <boost/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/indexer.h"

namespace berth::controllers::job {

bool isIndexed(const boost::json::value& job);
// "1,3-5" → {1,3,4,5}, keeping indexes below `completions`; malformed parts are skipped.
std::set<long long> parseIndexes(std::string_view text, long long completions);
std::string formatIndexes(const std::set<long long>& indexes);
std::optional<long long> completionIndex(const boost::json::value& pod);

// Indexes already recorded plus those of Succeeded pods (valid and below completions).
std::set<long long> succeededIndexes(const boost::json::value& job,
                                     const std::vector<client::ObjectPtr>& pods);
// The lowest `n` indexes that neither succeeded nor have an active pod.
std::vector<long long> pendingIndexes(long long completions, const std::set<long long>& succeeded,
                                      const std::vector<client::ObjectPtr>& active, long long n);
// The pod for one index from the job's pod template (with the tracking finalizer).
boost::json::object indexedPod(const boost::json::object& tmpl, const boost::json::value& job,
                               long long index, const boost::json::object& controllerRef);

}  // namespace berth::controllers::job
