#include "apiserver/authz/selector_attributes.h"

#include <boost/json.hpp>

#include "core/json_access.h"
#include "core/validation.h"

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

// Go's %q for the plain strings these messages quote.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

core::StatusCause invalid(std::string field, std::string_view value, std::string_view detail) {
  return {"FieldValueInvalid", "Invalid value: " + quote(value) + ": " + std::string(detail),
          std::move(field)};
}
core::StatusCause required(std::string field, std::string_view detail) {
  return {"FieldValueRequired", "Required value: " + std::string(detail), std::move(field)};
}
core::StatusCause forbidden(std::string field, std::string_view detail) {
  return {"FieldValueForbidden", "Forbidden: " + std::string(detail), std::move(field)};
}

const json::array* requirementsOf(const json::object& selector) {
  const json::value* v = selector.if_contains("requirements");
  return v && v->is_array() ? &v->as_array() : nullptr;
}

std::vector<std::string> valuesOf(const json::object& req) {
  std::vector<std::string> out;
  if (const json::value* v = req.if_contains("values"); v && v->is_array())
    for (const auto& e : v->as_array())
      if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

// metav1validation's operator/values rule, shared by field and label requirements (unknown
// operators pass: a newer client's may be authorized as the broader request).
void validateArity(const std::string& op, size_t values, const std::string& path,
                   std::vector<core::StatusCause>& out) {
  if ((op == "In" || op == "NotIn") && values == 0)
    out.push_back(
        required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
  if ((op == "Exists" || op == "DoesNotExist") && values > 0)
    out.push_back(forbidden(path + ".values",
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
}

void validateSelector(const json::object& ra, const char* which, const std::string& base,
                      std::vector<core::StatusCause>& out) {
  const json::object* sel = core::objectField(ra, which);
  if (sel == nullptr) return;
  const std::string path = base + "." + which;
  const std::string raw = core::stringField(*sel, "rawSelector");
  const json::array* reqs = requirementsOf(*sel);
  const bool hasReqs = reqs != nullptr && !reqs->empty();
  if (!raw.empty() && hasReqs)
    out.push_back(
        invalid(path + ".rawSelector", raw, "may not specified at the same time as requirements"));
  if (raw.empty() && !hasReqs)
    out.push_back(
        required(path + ".requirements",
                 "when " + path + " is specified, requirements or rawSelector is required"));
  if (!hasReqs) return;
  const bool labels = std::string_view(which) == "labelSelector";
  for (size_t i = 0; i < reqs->size(); ++i) {
    const std::string rp = path + ".requirements[" + std::to_string(i) + "]";
    static const json::object kEmpty;
    const json::object& req = (*reqs)[i].is_object() ? (*reqs)[i].as_object() : kEmpty;
    const std::string key = core::stringField(req, "key");
    const std::vector<std::string> values = valuesOf(req);
    validateArity(core::stringField(req, "operator"), values.size(), rp, out);
    if (!labels) {
      if (key.empty()) out.push_back(required(rp + ".key", "must be specified"));
      continue;
    }
    for (const auto& msg : core::validation::isQualifiedName(key))
      out.push_back(invalid(rp + ".key", key, msg));
    for (size_t j = 0; j < values.size(); ++j)
      for (const auto& msg : core::validation::isValidLabelValue(values[j]))
        out.push_back(invalid(rp + ".values[" + std::to_string(j) + "]", values[j], msg));
  }
}

// Errors joined as utilerrors.NewAggregate prints them.
std::string aggregate(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  std::string out = "[";
  for (size_t i = 0; i < errs.size(); ++i) out += (i ? ", " : "") + errs[i];
  return out + "]";
}

// upstream fieldSelectorAsSelector: In/NotIn with exactly one value become = / !=; the rest are
// dropped with an error (requirements are ANDed, so dropping one only broadens the check).
void fieldRequirementsFrom(const json::array& reqs, Attributes& a) {
  std::vector<std::string> errs;
  for (const auto& r : reqs) {
    if (!r.is_object()) continue;
    const json::object& req = r.as_object();
    const std::string op = core::stringField(req, "operator");
    std::vector<std::string> values = valuesOf(req);
    if (values.size() > 1) {
      errs.push_back("fieldSelectors do not yet support multiple values");
    } else if (op == "In" || op == "NotIn") {
      if (values.size() != 1) {
        errs.push_back(std::string("fieldSelectors ") + (op == "In" ? "in" : "not in") +
                       " must have one value");
        continue;
      }
      a.fieldRequirements.push_back({core::stringField(req, "key"), op == "In", values[0]});
    } else if (op == "Exists" || op == "DoesNotExist") {
      errs.push_back("fieldSelectors do not yet support " + op);
    } else {
      errs.push_back(quote(op) + " is not a valid field selector operator");
    }
  }
  if (!errs.empty()) a.fieldSelectorError = aggregate(errs);
}

// upstream labelSelectorAsSelector: each requirement checked on its own (labels.NewRequirement);
// the valid ones are kept.
void labelRequirementsFrom(const json::array& reqs, Attributes& a) {
  std::vector<std::string> errs;
  for (const auto& r : reqs) {
    if (!r.is_object()) continue;
    auto one = core::LabelSelector::fromJson(json::object{{"matchExpressions", json::array{r}}});
    if (!one.ok()) {
      errs.push_back(one.status().message());
      continue;
    }
    for (const auto& req : one->requirements()) a.labelRequirements.push_back(req);
  }
  if (!errs.empty()) a.labelSelectorError = aggregate(errs);
}

}  // namespace

void parseSelectors(Attributes& a) {
  if (!a.fieldSelector.empty()) {
    auto fs = core::FieldSelector::parse(a.fieldSelector);
    if (fs.ok()) {
      a.fieldRequirements = fs->requirements();
    } else {
      a.fieldSelectorError = fs.status().message();
    }
  }
  if (!a.labelSelector.empty()) {
    auto ls = core::LabelSelector::parse(a.labelSelector);
    if (ls.ok()) {
      a.labelRequirements = ls->requirements();
    } else {
      a.labelSelectorError = ls.status().message();
    }
  }
}

std::vector<core::StatusCause> validateReviewSelectors(const json::object& ra,
                                                       const std::string& path) {
  std::vector<core::StatusCause> out;
  validateSelector(ra, "fieldSelector", path, out);
  validateSelector(ra, "labelSelector", path, out);
  return out;
}

void reviewSelectors(const json::object& ra, Attributes& a) {
  const json::object* fs = core::objectField(ra, "fieldSelector");
  const json::object* ls = core::objectField(ra, "labelSelector");
  const json::array* fieldReqs = fs ? requirementsOf(*fs) : nullptr;
  const json::array* labelReqs = ls ? requirementsOf(*ls) : nullptr;
  if (fieldReqs && fieldReqs->empty()) fieldReqs = nullptr;
  if (labelReqs && labelReqs->empty()) labelReqs = nullptr;
  // A rawSelector parses as a request's query value does; requirements, when given, replace it
  // (validation refuses both together).
  if (fs) a.fieldSelector = core::stringField(*fs, "rawSelector");
  if (ls) a.labelSelector = core::stringField(*ls, "rawSelector");
  parseSelectors(a);
  if (fieldReqs) {
    a.fieldRequirements.clear();
    a.fieldSelectorError.clear();
    fieldRequirementsFrom(*fieldReqs, a);
  }
  if (labelReqs) {
    a.labelRequirements.clear();
    a.labelSelectorError.clear();
    labelRequirementsFrom(*labelReqs, a);
  }
}

std::string selectorErrors(const Attributes& a) {
  std::string out;
  auto add = [&](const std::string& err, bool partial, const char* which) {
    if (err.empty()) return;
    if (!out.empty()) out += "; ";
    out += std::string("spec.resourceAttributes.") + which +
           (partial ? " partially ignored" : " ignored") + " due to parse error";
  };
  add(a.fieldSelectorError, !a.fieldRequirements.empty(), "fieldSelector");
  add(a.labelSelectorError, !a.labelRequirements.empty(), "labelSelector");
  return out;
}

}  // namespace berth::apiserver::authz
