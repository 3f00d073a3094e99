// batch/v1 kinds: Job and CronJob. Defaults from pkg/apis/batch/v1/defaults.go, validation from
// pkg/apis/batch/validation (schedule errors worded as robfig/cron's standard parser words
// them), selector generation from pkg/registry/batch/job/strategy.go.
#include <cctype>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const json::object kEmpty;
constexpr const char* kControllerUid = "batch.kubernetes.io/controller-uid";
constexpr const char* kLegacyControllerUid = "controller-uid";
constexpr const char* kJobName = "batch.kubernetes.io/job-name";
constexpr const char* kLegacyJobName = "job-name";

const json::object& specOf(const json::object& obj) {
  const json::object* s = getObj(obj, "spec");
  return s != nullptr ? *s : kEmpty;
}
std::string_view metaField(const json::object& obj, std::string_view f) {
  const json::object* m = getObj(obj, "metadata");
  return m != nullptr ? getStr(*m, f) : std::string_view();
}

// ---- cron schedule ----------------------------------------------------------------------------

struct CronField {
  int min, max;
  const char* const* names;  // index = value - min... names[i] maps to value i + namesBase
  int namesBase;
  bool allowQuestion;
};
const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

std::optional<std::string> parseInt(std::string_view expr, const CronField& f, int& out) {
  std::string lower;
  for (char c : expr) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (f.names != nullptr) {
    for (int i = 0; f.names[i] != nullptr; ++i) {
      if (lower == f.names[i]) {
        out = i + f.namesBase;
        return std::nullopt;
      }
    }
  }
  bool digits = !expr.empty() && expr.size() < 10;
  for (char c : expr) digits = digits && (c >= '0' && c <= '9');
  if (!digits) {
    if (!expr.empty() && expr[0] == '-') {
      return "negative number (" + std::string(expr) + ") not allowed: " + std::string(expr);
    }
    return "failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " +
           goQuote(expr) + ": invalid syntax";
  }
  out = std::stoi(std::string(expr));
  return std::nullopt;
}

std::optional<std::string> parseCronRange(std::string_view expr, const CronField& f) {
  size_t slash = expr.find('/');
  std::string_view rangePart = expr.substr(0, slash);
  if (slash != std::string_view::npos && expr.find('/', slash + 1) != std::string_view::npos) {
    return "too many slashes: " + std::string(expr);
  }
  int start, end;
  if (rangePart == "*" || (rangePart == "?" && f.allowQuestion)) {
    start = f.min;
    end = f.max;
  } else {
    size_t dash = rangePart.find('-');
    if (dash != std::string_view::npos && rangePart.find('-', dash + 1) != std::string_view::npos) {
      return "too many hyphens: " + std::string(expr);
    }
    if (auto e = parseInt(rangePart.substr(0, dash), f, start)) return e;
    if (dash == std::string_view::npos) {
      end = start;
    } else if (auto e = parseInt(rangePart.substr(dash + 1), f, end)) {
      return e;
    }
  }
  if (slash != std::string_view::npos) {
    int step;
    if (auto e = parseInt(expr.substr(slash + 1), f, step)) return e;
    if (step <= 0) return "step of range should be a positive number: " + std::string(expr);
    if (rangePart.find('-') == std::string_view::npos && rangePart != "*" && rangePart != "?") {
      end = f.max;
    }
  }
  if (start < f.min) {
    return "beginning of range (" + std::to_string(start) + ") below minimum (" +
           std::to_string(f.min) + "): " + std::string(expr);
  }
  if (end > f.max) {
    return "end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(f.max) +
           "): " + std::string(expr);
  }
  if (start > end) {
    return "beginning of range (" + std::to_string(start) + ") beyond end of range (" +
           std::to_string(end) + "): " + std::string(expr);
  }
  return std::nullopt;
}

}  // namespace

// Parses a cron schedule as robfig/cron's ParseStandard: 5 fields or a descriptor.
std::optional<std::string> parseCronSchedule(std::string_view spec) {
  std::vector<std::string> fields;
  std::string cur;
  for (char c : spec) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!cur.empty()) fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) fields.push_back(std::move(cur));
  if (fields.empty()) return "empty spec string";
  if (fields[0].rfind("TZ=", 0) == 0 || fields[0].rfind("CRON_TZ=", 0) == 0) {
    fields.erase(fields.begin());
  }
  if (!fields.empty() && fields[0][0] == '@') {
    static const char* kDescriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                         "@daily",  "@midnight", "@hourly"};
    for (const char* d : kDescriptors) {
      if (fields[0] == d) return std::nullopt;
    }
    if (fields[0] == "@every") {
      if (fields.size() < 2) return "failed to parse duration @every : time: invalid duration \"\"";
      return std::nullopt;
    }
    return "unrecognized descriptor: " + fields[0];
  }
  if (fields.size() != 5) {
    std::string list = "[";
    for (size_t i = 0; i < fields.size(); ++i) list += (i ? " " : "") + fields[i];
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + list + "]";
  }
  const CronField kFields[5] = {{0, 59, nullptr, 0, false},
                                {0, 23, nullptr, 0, false},
                                {1, 31, nullptr, 0, true},
                                {1, 12, kMonths, 1, false},
                                {0, 6, kDays, 0, true}};
  for (size_t i = 0; i < 5; ++i) {
    std::string_view field = fields[i];
    size_t start = 0;
    while (true) {
      size_t comma = field.find(',', start);
      std::string_view part = field.substr(start, comma == std::string_view::npos ? comma
                                                                                  : comma - start);
      if (auto e = parseCronRange(part, kFields[i])) return e;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  return std::nullopt;
}

namespace {

// ---- Job --------------------------------------------------------------------------------------

void jobDefaults(json::object& obj) {
  ensureObj(obj, "metadata");  // first, so that `spec` below stays valid
  json::object& spec = ensureObj(obj, "spec");
  if (!has(spec, "completions") && !has(spec, "parallelism")) {
    spec["completions"] = 1;
    spec["parallelism"] = 1;
  }
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "backoffLimit", has(spec, "backoffLimitPerIndex") ? INT32_MAX : 6);
  if (const json::object* labels = templateLabels(spec)) {
    json::object& meta = ensureObj(obj, "metadata");
    const json::object* own = getObj(meta, "labels");
    if (own == nullptr || own->empty()) meta["labels"] = *labels;
  }
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy",
             has(spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
  defaultPodTemplate(ensureObj(spec, "template"));
}

void jobPrepareCreate(json::object& obj) {
  std::string uid(metaField(obj, "uid"));
  json::object& spec = ensureObj(obj, "spec");
  if (getBool(spec, "manualSelector").value_or(false) || uid.empty()) return;
  std::string name(metaField(obj, "name"));
  std::string uidStr(uid);
  json::object& labels = ensureObj(ensureObj(ensureObj(spec, "template"), "metadata"), "labels");
  for (const char* k : {kLegacyJobName, kJobName}) {
    if (!labels.contains(k)) labels[k] = name;
  }
  for (const char* k : {kLegacyControllerUid, kControllerUid}) {
    if (!labels.contains(k)) labels[k] = uidStr;
  }
  json::object& matchLabels = ensureObj(ensureObj(spec, "selector"), "matchLabels");
  if (!matchLabels.contains(kControllerUid)) matchLabels[kControllerUid] = uidStr;
}

// Checks shared by Jobs and CronJob job templates (upstream validateJobSpec).
void validateJobCommon(const json::object& spec, const std::string& path, FieldErrors& errs) {
  for (const char* f : {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                        "ttlSecondsAfterFinished"}) {
    validateNonnegative(spec, f, child(path, f), errs);
  }
  if (hasStr(spec, "completionMode")) {
    std::string_view mode = getStr(spec, "completionMode");
    if (mode != "NonIndexed" && mode != "Indexed") {
      addNotSupported(errs, child(path, "completionMode"), goQuote(mode), {"NonIndexed", "Indexed"});
    }
    if (mode == "Indexed" && !has(spec, "completions")) {
      addRequired(errs, child(path, "completions"), "when completion mode is Indexed");
    }
  }
  validateJobIndexLimits(spec, path, errs);
  std::string tpath = child(path, "template");
  const json::object* tmpl = getObj(spec, "template");
  static const json::object kNoTemplate;
  validatePodTemplate(tmpl ? tmpl : &kNoTemplate, tpath, errs, {});
  const json::object* ps = tmpl ? getObj(*tmpl, "spec") : nullptr;
  std::string_view restart = ps ? getStr(*ps, "restartPolicy") : "";
  if (restart != "OnFailure" && restart != "Never") {
    addNotSupported(errs, child(tpath, "spec.restartPolicy"), goQuote(restart),
                    {"OnFailure", "Never"});
  }
  validatePodFailurePolicy(spec, path, errs);
}

void validateHasLabel(const json::object* labels, const std::string& path, const char* k,
                      std::string_view expected, FieldErrors& errs) {
  const json::value* v = labels ? labels->if_contains(k) : nullptr;
  std::string detail = "must be '" + std::string(expected) + "'";
  if (v == nullptr) {
    addRequired(errs, key(path, k), detail);
  } else if (!v->is_string() || v->get_string() != expected) {
    addInvalid(errs, key(path, k), formatStringMap(labels), detail);
  }
}

void jobValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object* selector = getObj(spec, "selector");
  const json::object* labels = templateLabels(spec);
  if (selector == nullptr) {
    addRequired(errs, "spec.selector");
  } else {
    validateLabelSelector(*selector, "spec.selector", errs);
    if (!selectorEmpty(*selector) && !selectorMatches(*selector, labels)) {
      addInvalid(errs, "spec.template.metadata.labels", formatStringMap(labels),
                 "`selector` does not match template `labels`");
    }
  }
  validateJobCommon(spec, "spec", errs);
  std::string_view uid = metaField(obj, "uid");
  if (getBool(spec, "manualSelector").value_or(false) || uid.empty()) return;
  std::string_view name = metaField(obj, "name");
  const std::string lpath = "spec.template.metadata.labels";
  validateHasLabel(labels, lpath, kLegacyControllerUid, uid, errs);
  validateHasLabel(labels, lpath, kLegacyJobName, name, errs);
  validateHasLabel(labels, lpath, kControllerUid, uid, errs);
  validateHasLabel(labels, lpath, kJobName, name, errs);
  json::object expected{{kControllerUid, uid}};
  if (selector != nullptr && !selectorMatches(*selector, &expected)) {
    addInvalid(errs, "spec.selector", formatSelector(selector), "`selector` not auto-generated");
  }
}

void jobValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object& oldSpec = specOf(old);
  if (getStr(spec, "completionMode") != "Indexed") {
    validateImmutable(getVal(spec, "completions"), getVal(oldSpec, "completions"),
                      "spec.completions", errs);
  }
  if (!sameJson(getVal(spec, "selector"), getVal(oldSpec, "selector"))) {
    addInvalid(errs, "spec.selector", formatSelector(getObj(spec, "selector")),
               "field is immutable");
  }
  validateImmutable(getVal(spec, "template"), getVal(oldSpec, "template"), "spec.template", errs);
  for (const char* f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex"}) {
    validateImmutable(getVal(spec, f), getVal(oldSpec, f), child("spec", f), errs);
  }
}

// ---- CronJob ----------------------------------------------------------------------------------

void cronJobDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "concurrencyPolicy", "Allow");
  setDefault(spec, "suspend", false);
  setDefault(spec, "successfulJobsHistoryLimit", 3);
  setDefault(spec, "failedJobsHistoryLimit", 1);
  json::object& jobTemplate = ensureObj(spec, "jobTemplate");
  json::object& jobMeta = ensureObj(jobTemplate, "metadata");  // Go emits its null timestamp
  if (!jobMeta.contains("creationTimestamp")) jobMeta["creationTimestamp"] = nullptr;
  json::object& jobSpec = ensureObj(jobTemplate, "spec");
  defaultPodTemplate(ensureObj(jobSpec, "template"));
}

void validateCronJobSpec(const json::object& obj, const json::object* old, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  std::string_view schedule = getStr(spec, "schedule");
  if (schedule.empty()) {
    addRequired(errs, "spec.schedule");
  } else {
    if (auto e = parseCronSchedule(schedule)) addInvalidStr(errs, "spec.schedule", schedule, *e);
    bool allowTz = old != nullptr &&
                   getStr(specOf(*old), "schedule").find("TZ") != std::string_view::npos;
    if (schedule.find("TZ") != std::string_view::npos) {
      if (!allowTz) {
        addInvalidStr(errs, "spec.schedule", schedule,
                      "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
      } else if (has(spec, "timeZone")) {
        addInvalidStr(errs, "spec.schedule", schedule,
                      "cannot use both timeZone field and TZ or CRON_TZ in schedule");
      }
    }
  }
  validateNonnegative(spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds", errs);
  std::string_view policy = getStr(spec, "concurrencyPolicy");
  if (policy.empty()) {
    addRequired(errs, "spec.concurrencyPolicy");
  } else if (policy != "Allow" && policy != "Forbid" && policy != "Replace") {
    addNotSupported(errs, "spec.concurrencyPolicy", goQuote(policy), {"Allow", "Forbid", "Replace"});
  }
  const json::object* jt = getObj(spec, "jobTemplate");
  const json::object* jobSpec = jt ? getObj(*jt, "spec") : nullptr;
  validateJobCommon(jobSpec ? *jobSpec : kEmpty, "spec.jobTemplate.spec", errs);
  if (jobSpec != nullptr) {
    if (const json::object* sel = getObj(*jobSpec, "selector")) {
      addInvalid(errs, "spec.jobTemplate.spec.selector", formatSelector(sel),
                 "`selector` will be auto-generated");
    }
    if (getBool(*jobSpec, "manualSelector").value_or(false)) {
      addNotSupported(errs, "spec.jobTemplate.spec.manualSelector", "true", {"nil", "false"});
    }
  }
  validateNonnegative(spec, "successfulJobsHistoryLimit", "spec.successfulJobsHistoryLimit", errs);
  validateNonnegative(spec, "failedJobsHistoryLimit", "spec.failedJobsHistoryLimit", errs);
}

void cronJobValidate(const json::object& obj, FieldErrors& errs) {
  std::string_view name = metaField(obj, "name");
  if (name.size() > 52) {
    addInvalidStr(errs, "metadata.name", name, "must be no more than 52 characters");
  }
  validateCronJobSpec(obj, nullptr, errs);
}

}  // namespace

const KindOps* batchOps(std::string_view kind) {
  static const KindOps job = [] {
    KindOps o;
    o.defaults = jobDefaults;
    o.validate = jobValidate;
    o.validateUpdate = jobValidateUpdate;
    o.prepareCreate = jobPrepareCreate;
    return o;
  }();
  static const KindOps cronJob = [] {
    KindOps o;
    o.defaults = cronJobDefaults;
    o.validate = cronJobValidate;
    return o;
  }();
  if (kind == "Job") return &job;
  if (kind == "CronJob") return &cronJob;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
