// Quantities and label-selector matching for the object validators. The syntax validators
// (names, label keys and values, ports, ...) are core/validation.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/kinds/internal.h"

namespace berth::core::kinds {
namespace detail {

// ---- quantities -------------------------------------------------------------------------------

const char* const kQuantityFormatError =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

std::optional<long double> parseQuantity(std::string_view s) {
  if (s.empty() || s.size() > 128) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  size_t numStart = i;
  int dots = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) dots += s[i++] == '.';
  std::string_view num = s.substr(numStart, i - numStart);
  if (num.empty() || dots > 1 || num == ".") return std::nullopt;
  long double value = std::strtold(std::string(num).c_str(), nullptr);
  std::string_view suffix = s.substr(i);
  static const std::pair<const char*, long double> kSuffixes[] = {
      {"", 1},         {"n", 1e-9L},    {"u", 1e-6L},    {"m", 1e-3L},   {"k", 1e3L},
      {"M", 1e6L},     {"G", 1e9L},     {"T", 1e12L},    {"P", 1e15L},   {"E", 1e18L},
      {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}};
  bool found = false;
  for (const auto& [name, mult] : kSuffixes) {
    if (suffix == name) {
      value *= mult;
      found = true;
      break;
    }
  }
  if (!found) {
    // Decimal exponent: e.g. "1e3", "5E-2".
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
    std::string_view exp = suffix.substr(1);
    size_t j = 0;
    if (exp[0] == '+' || exp[0] == '-') ++j;
    if (j >= exp.size() || exp.size() > 6) return std::nullopt;
    for (size_t k = j; k < exp.size(); ++k) {
      if (exp[k] < '0' || exp[k] > '9') return std::nullopt;
    }
    value *= std::pow(10.0L, std::stold(std::string(exp)));
  }
  return negative ? -value : value;
}

// ---- selectors --------------------------------------------------------------------------------

bool selectorEmpty(const json::object& selector) {
  const json::object* ml = getObj(selector, "matchLabels");
  const json::array* me = getArr(selector, "matchExpressions");
  return (ml == nullptr || ml->empty()) && (me == nullptr || me->empty());
}

bool selectorMatches(const json::object& selector, const json::object* labels) {
  auto labelOf = [&](std::string_view k) -> const json::value* {
    return labels != nullptr ? labels->if_contains(k) : nullptr;
  };
  if (const json::object* ml = getObj(selector, "matchLabels")) {
    for (const auto& [k, v] : *ml) {
      const json::value* l = labelOf(k);
      if (l == nullptr || !l->is_string() || !v.is_string() || l->get_string() != v.get_string()) {
        return false;
      }
    }
  }
  if (const json::array* me = getArr(selector, "matchExpressions")) {
    for (const auto& ev : *me) {
      const json::object* e = ev.if_object();
      if (e == nullptr) return false;
      const json::value* l = labelOf(getStr(*e, "key"));
      std::string_view op = getStr(*e, "operator");
      bool inValues = false;
      if (const json::array* vals = getArr(*e, "values"); vals && l && l->is_string()) {
        for (const auto& v : *vals) inValues = inValues || (v.is_string() && v == *l);
      }
      bool ok = op == "In"             ? inValues
                : op == "NotIn"        ? !inValues
                : op == "Exists"       ? l != nullptr
                : op == "DoesNotExist" ? l == nullptr
                                       : false;
      if (!ok) return false;
    }
  }
  return true;
}

}  // namespace detail
}  // namespace berth::core::kinds
