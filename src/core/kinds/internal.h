#pragma once
// Internal helpers of the kinds layer: field-error builders that format messages exactly as
// upstream apimachinery's field.Error.ErrorBody does, defensive JSON accessors (wrongly typed
// fields read as absent, so untrusted input never throws), shared validators (object metadata,
// label selectors, quantities, int-or-percent) and the per-kind entry points the dispatcher in
// strategy.cpp calls. Not part of the public interface: include only from src/core/kinds/*.cpp.
//
// Thread-safety: stateless free functions.
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.h"
#include "core/kinds/strategy.h"
#include "core/validation.h"

namespace berth::core::kinds::detail {

namespace json = boost::json;

// ---- paths -------------------------------------------------------------------------------------
inline std::string child(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string s(path);
  s += '.';
  s += name;
  return s;
}
inline std::string index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}
inline std::string key(std::string_view path, std::string_view k) {
  return std::string(path) + "[" + std::string(k) + "]";
}

// ---- value formatting (Go's %q / %v / %#v as field.Error prints them) -------------------------
std::string goQuote(std::string_view s);
// A JSON value as upstream prints the Go value it decodes to: strings quoted, numbers and bools
// bare, null as "null", maps of strings as map[string]string{...}, anything else as JSON.
std::string formatValue(const json::value& v);
std::string formatStringMap(const json::object* m);  // map[string]string{"a":"b"}
std::string formatIntOrString(const json::value& v);  // intstr.IntOrString{Type:1, ...}
std::string formatSelector(const json::object* selector);  // v1.LabelSelector{...} or "null"

// ---- error builders ---------------------------------------------------------------------------
void addInvalid(FieldErrors& errs, std::string path, std::string_view formattedValue,
                std::string_view detail);
inline void addInvalidStr(FieldErrors& errs, std::string path, std::string_view value,
                          std::string_view detail) {
  addInvalid(errs, std::move(path), goQuote(value), detail);
}
inline void addInvalidInt(FieldErrors& errs, std::string path, int64_t value,
                          std::string_view detail) {
  addInvalid(errs, std::move(path), std::to_string(value), detail);
}
void addRequired(FieldErrors& errs, std::string path, std::string_view detail = "");
void addNotSupported(FieldErrors& errs, std::string path, std::string_view formattedValue,
                     const std::vector<std::string>& valid);
void addDuplicate(FieldErrors& errs, std::string path, std::string_view formattedValue);
void addForbidden(FieldErrors& errs, std::string path, std::string_view detail);
void addTooLong(FieldErrors& errs, std::string path, int64_t maxBytes);
void addNotFound(FieldErrors& errs, std::string path, std::string_view formattedValue);
// field.Invalid with field.OmitValueType{}: "Invalid value: <detail>".
void addInvalidOmitValue(FieldErrors& errs, std::string path, std::string_view detail);
void addTooMany(FieldErrors& errs, std::string path, size_t actual, size_t max);
// Job spec.podFailurePolicy (job_pod_failure_policy.cpp); `path` is the JobSpec's ("spec").
void validatePodFailurePolicy(const json::object& spec, const std::string& path, FieldErrors& errs);
// Job spec.backoffLimitPerIndex / maxFailedIndexes and the Indexed limits (job_index_limits.cpp).
void validateJobIndexLimits(const json::object& spec, const std::string& path, FieldErrors& errs);

// ---- JSON accessors ---------------------------------------------------------------------------
const json::object* getObj(const json::object& o, std::string_view k);
json::object* getObjMut(json::object& o, std::string_view k);
const json::array* getArr(const json::object& o, std::string_view k);
json::array* getArrMut(json::object& o, std::string_view k);
std::string_view getStr(const json::object& o, std::string_view k);  // "" if absent / not string
bool hasStr(const json::object& o, std::string_view k);
std::optional<int64_t> getInt(const json::object& o, std::string_view k);
std::optional<bool> getBool(const json::object& o, std::string_view k);
// Present and not null.
bool has(const json::object& o, std::string_view k);
// The object at k, created (or replacing a non-object) when needed.
json::object& ensureObj(json::object& o, std::string_view k);
json::array& ensureArr(json::object& o, std::string_view k);
// Sets o[k] = v unless k is present and non-null.
void setDefault(json::object& o, std::string_view k, json::value v);
// Deep equality treating absent and null alike at object level.
bool sameJson(const json::value* a, const json::value* b);
const json::value* getVal(const json::object& o, std::string_view k);

// ---- shared validators (core/validation) -------------------------------------------------------
using validation::isConfigMapKey;
using validation::isEnvVarName;
using validation::isValidIp;
using validation::isValidPercent;
using validation::isValidPortName;
using validation::isValidPortNum;
using validation::isWildcardDns1123Subdomain;
using validation::regexError;
using validation::validatePathSegmentName;

// Quantity ("100m", "1Gi"): its value, or nullopt when malformed.
std::optional<long double> parseQuantity(std::string_view s);
extern const char* const kQuantityFormatError;

// Kubernetes metav1.LabelSelector matching (matchLabels + matchExpressions) against labels.
bool selectorMatches(const json::object& selector, const json::object* labels);
bool selectorEmpty(const json::object& selector);

using NameFn = std::function<std::vector<std::string>(std::string_view, bool prefix)>;
using validation::nameIsDns1035Label;
using validation::nameIsDnsLabel;
using validation::nameIsDnsSubdomain;

void validateObjectMeta(const json::object& obj, bool namespaced, const NameFn& nameFn,
                        FieldErrors& errs, std::string_view path = "metadata");
void validateObjectMetaUpdate(const json::object& obj, const json::object& old,
                              FieldErrors& errs);
void validateLabels(const json::object* labels, const std::string& path, FieldErrors& errs);
void validateAnnotations(const json::object* annotations, const std::string& path,
                         FieldErrors& errs);
void validateLabelSelector(const json::object& selector, const std::string& path,
                           FieldErrors& errs);
void validateNonnegative(const json::object& o, std::string_view k, const std::string& path,
                         FieldErrors& errs);
// IntOrString that is a non-negative int or a valid percent.
void validatePositiveIntOrPercent(const json::value& v, const std::string& path,
                                  FieldErrors& errs);
// Percent ≤ 100%.
void validateNotMoreThan100Percent(const json::value& v, const std::string& path,
                                   FieldErrors& errs);
// Immutable field: Invalid "field is immutable" when changed.
void validateImmutable(const json::value* now, const json::value* before, const std::string& path,
                       FieldErrors& errs);
void validateResourceList(const json::object* list, const std::string& path, FieldErrors& errs);

// base64 of raw bytes (Secret stringData folding).
using core::base64Decode;
using core::base64Encode;

// Workload helpers (workloads.cpp). The labels of spec.template.metadata.
const json::object* templateLabels(const json::object& spec);
// Upstream's selector checks for workloads: Required when absent, selector syntax, "empty
// selector is invalid for <what>" and "`selector` does not match template `labels`".
void validateWorkloadSelector(const json::object& spec, const std::string& specPath,
                              std::string_view what, FieldErrors& errs, bool requireNonEmpty);
// Template validation with restartPolicy Always and no activeDeadlineSeconds.
void validateAlwaysRestartTemplate(const json::object& spec, const std::string& specPath,
                                   std::string_view kind, FieldErrors& errs);

// ---- per-kind hooks (implemented in pod.cpp, core_v1.cpp, apps_v1.cpp, ...) -------------------
// Pod spec defaults and validation, shared with every pod template.
void defaultPodSpec(json::object& spec);
void defaultPodTemplate(json::object& tmpl);
void validatePodSpec(const json::object& spec, const std::string& path, FieldErrors& errs);
// template: metadata labels/annotations + spec. restartPolicies: allowed values, empty = any.
void validatePodTemplate(const json::object* tmpl, const std::string& path, FieldErrors& errs,
                         const std::vector<std::string>& restartPolicies);
std::string podQosClass(const json::object& spec);

struct KindOps {
  NameFn nameFn = nameIsDnsSubdomain;
  std::function<void(json::object&)> defaults;
  std::function<void(const json::object&, FieldErrors&)> validate;
  std::function<void(const json::object&, const json::object&, FieldErrors&)> validateUpdate;
  // Kind-specific create/update preparation (status reset is generic).
  std::function<void(json::object&)> prepareCreate;
  std::function<void(json::object&, const json::object&)> prepareUpdate;
  // A write through a subresource other than status (CSR approval): builds the object to store
  // from the request body (`obj`, replaced) and the stored object. Unset: such writes are
  // prepared as main-resource updates.
  std::function<void(std::string_view subresource, json::object& obj, const json::object& old)>
      prepareSubresource;
  // Records the creating user in the object (CSR spec.username/groups).
  std::function<void(json::object&, const Requester&)> recordRequester;
  // Runs after the generic status-update preparation (a CSR keeps its approval conditions).
  std::function<void(json::object&, const json::object&)> prepareStatusUpdate;
  // Create keeps a client-supplied status (Nodes register with theirs).
  bool keepStatusOnCreate = false;
  // A status update may also change metadata labels and annotations (Pods, Nodes).
  bool statusUpdatesMetadata = false;
};

const KindOps& podOps();
const KindOps& serviceOps();
const KindOps& limitRangeOps();  // limit_range.cpp

// Registration per group; each returns nullptr for kinds it does not know.
const KindOps* coreOps(std::string_view kind);
const KindOps* appsOps(std::string_view kind);
const KindOps* batchOps(std::string_view kind);
const KindOps* otherOps(std::string_view group, std::string_view kind);

// robfig/cron ParseStandard: nullopt when valid, else its error text (batch_v1.cpp).
std::optional<std::string> parseCronSchedule(std::string_view spec);

// HPA (conversion.cpp).
void hpaV1ToV2(json::object& obj);
void hpaV2ToV1(json::object& obj);

}  // namespace berth::core::kinds::detail
