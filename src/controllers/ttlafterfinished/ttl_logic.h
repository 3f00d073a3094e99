#pragma once
// The TTL-after-finished arithmetic (upstream timeLeft/jobFinishTime), pure for tests.
#include <boost/json.hpp>

#include <chrono>
#include <optional>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::ttlafterfinished {

// Whether the Job has a TTL and is finished (Complete or Failed True).
bool needsCleanup(const boost::json::value& job);

// Time left until the Job may be deleted (<= 0: now); nullopt when it does not need cleanup or
// its finish time is unknown.
std::optional<std::chrono::seconds> timeLeft(const boost::json::value& job, SystemTime now);

}  // namespace berth::controllers::ttlafterfinished
