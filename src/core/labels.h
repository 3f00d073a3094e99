#pragma once
// Label and field selectors, parsed from their query-string forms as upstream
// apimachinery/pkg/labels and pkg/fields do, and from metav1.LabelSelector JSON.
//
// Label grammar: requirement (',' requirement)*; requirement is `key`, `!key`, `key=value`,
// `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key>1`, `key<1`; whitespace
// allowed around tokens; keys are qualified names (optional DNS prefix + '/'), values valid
// label values. Requirements are kept sorted by key (stable), as upstream does.
// Field grammar: `field=value`, `field==value`, `field!=value`, comma-separated; backslash escapes
// ',', '=' and '\' in values (an unescaped ',' or '=' in a value is an error).
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
  // kGreaterThan/kLessThan compare the label value as a 64-bit integer (upstream `gt`/`lt`).
  enum class Op {
    kExists,
    kDoesNotExist,
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted
  };

  // Empty selector matches everything.
  LabelSelector() = default;
  // Parse the query-string form. Errors are BadRequest Statuses with upstream's messages, e.g.
  // `unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt`.
  static Result<LabelSelector> parse(std::string_view text);
  // From a metav1.LabelSelector ({matchLabels, matchExpressions[{key,operator,values}]}).
  // A null/absent selector object matches nothing upstream for most controllers; callers decide.
  // Errors (bad operator, bad key/value) are BadRequest.
  static Result<LabelSelector> fromJson(const boost::json::object& selector);

  bool matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Canonical string form, e.g. "app=x,tier in (a,b)" (what Scale.status.selector carries).
  std::string toString() const;
  // If the selector pins `key` to one value (=, ==, or `in` with one value), that value.
  std::optional<std::string> exactValue(std::string_view key) const;

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
  // Errors are BadRequest: `invalid selector: '<s>'; can't understand '<term>'`, or
  // `invalid field selector: invalid escape sequence: \\x`.
  static Result<FieldSelector> parse(std::string_view text);

  // `fields` maps field path → value; a field missing from the map has value "".
  bool matches(const std::map<std::string, std::string>& fields) const;
  // Same, with values looked up by field path through `lookup` (missing = "").
  template <typename Lookup>
  bool matchesBy(Lookup&& lookup) const {
    for (const auto& r : requirements_) {
      if ((std::string_view(lookup(std::string_view(r.field))) == r.value) != r.equals) {
        return false;
      }
    }
    return true;
  }
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // If the selector pins `field` with '=', its value (used to narrow a list by index).
  std::optional<std::string> exactValue(std::string_view field) const;
  // Canonical form: terms sorted, values escaped ("metadata.name=a\\,b,spec.nodeName!=n").
  std::string toString() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace berth::core
