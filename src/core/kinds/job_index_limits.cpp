// Job spec.backoffLimitPerIndex / maxFailedIndexes validation, and the Indexed parallelism cap,
// as upstream's validateJobSpec (pkg/apis/batch/validation/validation.go): both fields are
// non-negative and only for completionMode Indexed; maxFailedIndexes needs backoffLimitPerIndex,
// is at most completions and at most 10^5 (the caps bound the length of completedIndexes and
// failedIndexes); past 10^5 completions a per-index backoff needs maxFailedIndexes ≤ 10^4 and
// parallelism ≤ 10^4.
#include <string>

#include "core/kinds/internal.h"
#include "core/kinds/strategy.h"

namespace berth::core::kinds::detail {
namespace {

constexpr int64_t kMaxParallelismForIndexed = 100'000;
constexpr int64_t kMaxFailedIndexes = 100'000;
constexpr int64_t kCompletionsSoftLimit = 100'000;
constexpr int64_t kParallelismLimitForHighCompletions = 10'000;
constexpr int64_t kMaxFailedIndexesLimitForHighCompletions = 10'000;

}  // namespace

void validateJobIndexLimits(const json::object& spec, const std::string& path, FieldErrors& errs) {
  auto perIndex = getInt(spec, "backoffLimitPerIndex");
  auto maxFailed = getInt(spec, "maxFailedIndexes");
  auto completions = getInt(spec, "completions");
  auto parallelism = getInt(spec, "parallelism");
  const std::string perIndexPath = child(path, "backoffLimitPerIndex");
  const std::string maxFailedPath = child(path, "maxFailedIndexes");
  validateNonnegative(spec, "backoffLimitPerIndex", perIndexPath, errs);
  if (maxFailed) {
    validateNonnegative(spec, "maxFailedIndexes", maxFailedPath, errs);
    if (!perIndex) addRequired(errs, perIndexPath, "when maxFailedIndexes is specified");
  }
  std::string_view mode = getStr(spec, "completionMode");
  if (mode == "Indexed") {
    if (parallelism && *parallelism > kMaxParallelismForIndexed) {
      addInvalidInt(errs, child(path, "parallelism"), *parallelism,
                    "must be less than or equal to " + std::to_string(kMaxParallelismForIndexed) +
                        " when completion mode is Indexed");
    }
    if (completions && maxFailed && *maxFailed > *completions) {
      addInvalidInt(errs, maxFailedPath, *maxFailed, "must be less than or equal to completions");
    }
    if (maxFailed && *maxFailed > kMaxFailedIndexes) {
      addInvalidInt(errs, maxFailedPath, *maxFailed,
                    "must be less than or equal to " + std::to_string(kMaxFailedIndexes));
    }
    if (completions && *completions > kCompletionsSoftLimit && perIndex) {
      const std::string high = " when completions are above " +
                               std::to_string(kCompletionsSoftLimit) +
                               " and used with backoff limit per index";
      if (!maxFailed) {
        addRequired(
            errs, maxFailedPath,
            "must be specified when completions is above " + std::to_string(kCompletionsSoftLimit));
      }
      if (parallelism && *parallelism > kParallelismLimitForHighCompletions) {
        addInvalidInt(errs, child(path, "parallelism"), *parallelism,
                      "must be less than or equal to " +
                          std::to_string(kParallelismLimitForHighCompletions) + high);
      }
      if (maxFailed && *maxFailed > kMaxFailedIndexesLimitForHighCompletions) {
        addInvalidInt(errs, maxFailedPath, *maxFailed,
                      "must be less than or equal to " +
                          std::to_string(kMaxFailedIndexesLimitForHighCompletions) + high);
      }
    }
  } else if (mode.empty() || mode == "NonIndexed") {
    if (perIndex) addInvalidInt(errs, perIndexPath, *perIndex, "requires indexed completion mode");
    if (maxFailed)
      addInvalidInt(errs, maxFailedPath, *maxFailed, "requires indexed completion mode");
  }
}

}  // namespace berth::core::kinds::detail
