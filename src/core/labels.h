#pragma once
// Label and field selectors, parsed from their query-string forms as upstream
// apimachinery/pkg/labels and pkg/fields do, and from metav1.LabelSelector JSON.
//
// Label grammar: requirement (',' requirement)*; requirement is `key`, `!key`, `key=value`,
// `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`; whitespace allowed around
// tokens; keys are qualified names (optional DNS prefix + '/'), values valid label values.
// Field grammar: `field=value`, `field==value`, `field!=value`, comma-separated; backslash escapes
// ',', '=', '!' and '\' in values.
//
// Thread-safety: immutable values after parse; matches() is const and safe concurrently.
#include <boost/json/fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::core {

using Labels = std::map<std::string, std::string, std::less<>>;

// Extracts metadata.labels of an object (empty when absent).
Labels labelsOf(const boost::json::object& obj);

class LabelSelector {
 public:
  enum class Op { kExists, kDoesNotExist, kEquals, kNotEquals, kIn, kNotIn };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted
  };

  // Empty selector matches everything.
  LabelSelector() = default;
  // Parse the query-string form. Errors are BadRequest Statuses naming the bad token.
  static Result<LabelSelector> parse(std::string_view text);
  // From a metav1.LabelSelector ({matchLabels, matchExpressions[{key,operator,values}]}).
  // A null/absent selector object matches nothing upstream for most controllers; callers decide.
  static Result<LabelSelector> fromJson(const boost::json::object& selector);

  bool matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Canonical string form, e.g. "app=x,tier in (a,b)" (what Scale.status.selector carries).
  std::string toString() const;

 private:
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  struct Requirement {
    std::string field;
    bool equals;  // false for !=
    std::string value;
  };

  FieldSelector() = default;
  static Result<FieldSelector> parse(std::string_view text);

  // `fields` maps field path → value; a field missing from the map has value "".
  bool matches(const std::map<std::string, std::string>& fields) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // If the selector pins `field` with '=', its value (used to narrow a list by index).
  std::optional<std::string> exactValue(std::string_view field) const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace berth::core
