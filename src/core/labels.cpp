#include "core/labels.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <set>

#include "core/validation.h"

namespace berth::core {
namespace {

using validation::isQualifiedName;
using validation::isValidLabelValue;

// Go's %q for the byte strings we see here: escapes quotes, backslashes and non-printables.
std::string goQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// field.Invalid(path, value, detail).Error(); upstream's parser has a nil path ("<nil>").
std::string invalidField(std::string_view path, std::string_view value,
                         const std::vector<std::string>& errs) {
  return std::string(path) + ": Invalid value: " + goQuote(value) + ": " + join(errs, "; ");
}

// strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow.
bool parseInt64(std::string_view s, int64_t& out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  }
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

using Op = LabelSelector::Op;
using Requirement = LabelSelector::Requirement;

std::string opName(Op op) {
  switch (op) {
    case Op::kExists:
      return "exists";
    case Op::kDoesNotExist:
      return "!";
    case Op::kEquals:
      return "=";
    case Op::kNotEquals:
      return "!=";
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "notin";
    case Op::kGreaterThan:
      return "gt";
    case Op::kLessThan:
      return "lt";
  }
  return "";
}

// labels.NewRequirement: validates key, value count and values; errors as an aggregate.
Result<Requirement> newRequirement(std::string key, Op op, std::vector<std::string> values,
                                   std::string_view pathPrefix) {
  std::vector<std::string> errs;
  auto child = [&](std::string_view name) {
    return pathPrefix.empty() ? std::string(name)
                              : std::string(pathPrefix) + "." + std::string(name);
  };
  if (auto e = isQualifiedName(key); !e.empty()) {
    errs.push_back(invalidField(child("key"), key, e));
  }
  auto listValue = [&]() {
    std::string s = "[]string{";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + goQuote(values[i]);
    return s + "}";
  };
  std::string valuePath = child("values");
  switch (op) {
    case Op::kIn:
    case Op::kNotIn:
      if (values.empty()) {
        errs.push_back(valuePath + ": Invalid value: " + listValue() +
                       ": for 'in', 'notin' operators, values set can't be empty");
      }
      break;
    case Op::kEquals:
    case Op::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(valuePath + ": Invalid value: " + listValue() +
                       ": exact-match compatibility requires one single value");
      }
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(valuePath + ": Invalid value: " + listValue() +
                       ": values set must be empty for exists and does not exist");
      }
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (values.size() != 1) {
        errs.push_back(valuePath + ": Invalid value: " + listValue() +
                       ": for 'Gt', 'Lt' operators, exactly one value is required");
      }
      for (size_t i = 0; i < values.size(); ++i) {
        int64_t ignored;
        if (!parseInt64(values[i], ignored)) {
          errs.push_back(valuePath + "[" + std::to_string(i) +
                         "]: Invalid value: " + goQuote(values[i]) +
                         ": for 'Gt', 'Lt' operators, the value must be an integer");
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto e = isValidLabelValue(values[i]); !e.empty()) {
      errs.push_back(
          invalidField(valuePath + "[" + std::to_string(i) + "][" + key + "]", values[i], e));
    }
  }
  if (!errs.empty()) {
    return Status::badRequest(errs.size() == 1 ? errs[0] : "[" + join(errs, ", ") + "]");
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return Requirement{std::move(key), op, std::move(values)};
}

// ---- Lexer and parser, token for token as apimachinery/pkg/labels/selector.go. ----

enum class Tok {
  kError,
  kEnd,
  kClosePar,
  kComma,
  kNot,
  kDoubleEquals,
  kEquals,
  kGreater,
  kIdent,
  kIn,
  kLess,
  kNotEquals,
  kNotIn,
  kOpenPar
};

struct Item {
  Tok tok;
  std::string lit;
};

std::optional<Tok> keywordToken(std::string_view s) {
  if (s == ")") return Tok::kClosePar;
  if (s == ",") return Tok::kComma;
  if (s == "!") return Tok::kNot;
  if (s == "==") return Tok::kDoubleEquals;
  if (s == "=") return Tok::kEquals;
  if (s == ">") return Tok::kGreater;
  if (s == "in") return Tok::kIn;
  if (s == "<") return Tok::kLess;
  if (s == "!=") return Tok::kNotEquals;
  if (s == "notin") return Tok::kNotIn;
  if (s == "(") return Tok::kOpenPar;
  return std::nullopt;
}

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool isSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Item lex() {
    while (pos_ < s_.size() && isWhitespace(s_[pos_])) ++pos_;
    // Upstream reads a NUL byte as end of input.
    if (pos_ >= s_.size() || s_[pos_] == '\0') return {Tok::kEnd, ""};
    if (isSpecial(s_[pos_])) return scanSpecial();
    return scanIdentOrKeyword();
  }

 private:
  Item scanIdentOrKeyword() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '\0' && !isSpecial(s_[pos_]) &&
           !isWhitespace(s_[pos_])) {
      ++pos_;
    }
    std::string lit(s_.substr(start, pos_ - start));
    if (auto t = keywordToken(lit)) return {*t, lit};
    return {Tok::kIdent, lit};
  }

  // Longest run of special symbols that still forms a token ("!=" over "!").
  Item scanSpecial() {
    Item last{Tok::kError, ""};
    std::string buffer;
    while (pos_ < s_.size() && isSpecial(s_[pos_])) {
      buffer += s_[pos_];
      if (auto t = keywordToken(buffer)) {
        last = {*t, buffer};
        ++pos_;
      } else if (last.tok != Tok::kError) {
        break;
      } else {
        ++pos_;
      }
    }
    if (last.tok == Tok::kError)
      return {Tok::kError, "error expected: keyword found '" + buffer + "'"};
    return last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) {
    Lexer lexer(text);
    while (true) {
      items_.push_back(lexer.lex());
      if (items_.back().tok == Tok::kEnd) break;
    }
  }

  Result<std::vector<Requirement>> parse() {
    std::vector<Requirement> out;
    while (true) {
      Item next = lookahead(true);
      switch (next.tok) {
        case Tok::kIdent:
        case Tok::kNot: {
          auto r = parseRequirement();
          if (!r.ok()) {
            return Status::badRequest("unable to parse requirement: " + r.status().message());
          }
          out.push_back(std::move(r).value());
          Item after = consume(true);
          if (after.tok == Tok::kEnd) return out;
          if (after.tok == Tok::kComma) {
            Item n2 = lookahead(true);
            if (n2.tok != Tok::kIdent && n2.tok != Tok::kNot) {
              return Status::badRequest("found '" + n2.lit + "', expected: identifier after ','");
            }
            break;
          }
          return Status::badRequest("found '" + after.lit + "', expected: ',' or 'end of string'");
        }
        case Tok::kEnd:
          return out;
        default:
          return Status::badRequest("found '" + next.lit +
                                    "', expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  // In the Values context the keywords `in` and `notin` read as identifiers.
  Item adjust(Item item, bool values) const {
    if (values && (item.tok == Tok::kIn || item.tok == Tok::kNotIn)) item.tok = Tok::kIdent;
    return item;
  }
  Item lookahead(bool values) const {
    return adjust(items_[std::min(pos_, items_.size() - 1)], values);
  }
  Item consume(bool values) {
    // Past the end the parser keeps seeing the end token (upstream never gets there).
    Item item = adjust(items_[std::min(pos_, items_.size() - 1)], values);
    if (pos_ < items_.size()) ++pos_;
    return item;
  }

  Result<Requirement> parseRequirement() {
    std::optional<Op> op;
    Item key = consume(true);
    if (key.tok == Tok::kNot) {
      op = Op::kDoesNotExist;
      key = consume(true);
    }
    if (key.tok != Tok::kIdent) {
      return Status::badRequest("found '" + key.lit + "', expected: identifier");
    }
    if (auto errs = isQualifiedName(key.lit); !errs.empty()) {
      return Status::badRequest(invalidField("<nil>", key.lit, errs));
    }
    Tok next = lookahead(true).tok;
    if (next == Tok::kEnd || next == Tok::kComma) {
      if (!op) op = Op::kExists;
    }
    if (op) return newRequirement(std::move(key.lit), *op, {}, "");

    Item opItem = consume(false);
    std::vector<std::string> values;
    switch (opItem.tok) {
      case Tok::kIn:
        op = Op::kIn;
        break;
      case Tok::kNotIn:
        op = Op::kNotIn;
        break;
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        op = Op::kEquals;
        break;
      case Tok::kNotEquals:
        op = Op::kNotEquals;
        break;
      case Tok::kGreater:
        op = Op::kGreaterThan;
        break;
      case Tok::kLess:
        op = Op::kLessThan;
        break;
      default:
        return Status::badRequest("found '" + opItem.lit +
                                  "', expected: in, notin, =, ==, !=, gt, lt");
    }
    auto parsed = (*op == Op::kIn || *op == Op::kNotIn) ? parseValues() : parseExactValue();
    if (!parsed.ok()) return parsed.status();
    return newRequirement(std::move(key.lit), *op, std::move(parsed).value(), "");
  }

  Result<std::vector<std::string>> parseValues() {
    Item open = consume(true);
    if (open.tok != Tok::kOpenPar) {
      return Status::badRequest("found '" + open.lit + "' expected: '('");
    }
    Item next = lookahead(true);
    switch (next.tok) {
      case Tok::kIdent:
      case Tok::kComma: {
        auto list = parseIdentifiersList();
        if (!list.ok()) return list;
        if (consume(true).tok != Tok::kClosePar) {
          return Status::badRequest("found '" + next.lit + "', expected: ')'");
        }
        return list;
      }
      case Tok::kClosePar:
        consume(true);
        return std::vector<std::string>{""};
      default:
        return Status::badRequest("found '" + next.lit + "', expected: ',', ')' or identifier");
    }
  }

  Result<std::vector<std::string>> parseIdentifiersList() {
    std::set<std::string> values;
    while (true) {
      Item item = consume(true);
      switch (item.tok) {
        case Tok::kIdent: {
          values.insert(item.lit);
          Item n2 = lookahead(true);
          if (n2.tok == Tok::kComma) continue;
          if (n2.tok == Tok::kClosePar)
            return std::vector<std::string>(values.begin(), values.end());
          return Status::badRequest("found '" + n2.lit + "', expected: ',' or ')'");
        }
        case Tok::kComma: {
          if (values.empty()) values.insert("");  // "(,"
          Tok n2 = lookahead(true).tok;
          if (n2 == Tok::kClosePar) {
            values.insert("");  // ",)"
            return std::vector<std::string>(values.begin(), values.end());
          }
          if (n2 == Tok::kComma) {
            consume(true);
            values.insert("");  // ",,"
          }
          break;
        }
        default:
          return Status::badRequest("found '" + item.lit + "', expected: ',', or identifier");
      }
    }
  }

  Result<std::vector<std::string>> parseExactValue() {
    Tok next = lookahead(true).tok;
    if (next == Tok::kEnd || next == Tok::kComma) return std::vector<std::string>{""};
    Item item = consume(true);
    if (item.tok == Tok::kIdent) return std::vector<std::string>{item.lit};
    return Status::badRequest("found '" + item.lit + "', expected: identifier");
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

void sortByKey(std::vector<Requirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

bool hasValue(const Requirement& r, std::string_view v) {
  return std::binary_search(r.values.begin(), r.values.end(), v, std::less<>());
}

bool requirementMatches(const Requirement& r, const Labels& labels) {
  auto it = labels.find(r.key);
  bool has = it != labels.end();
  switch (r.op) {
    case Op::kIn:
    case Op::kEquals:
      return has && hasValue(r, it->second);
    case Op::kNotIn:
    case Op::kNotEquals:
      return !has || !hasValue(r, it->second);
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      int64_t have, want;
      if (!has || r.values.size() != 1) return false;
      if (!parseInt64(it->second, have) || !parseInt64(r.values[0], want)) return false;
      return r.op == Op::kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

// ---- Field selector escaping (apimachinery/pkg/fields/selector.go). ----

std::string escapeFieldValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

Result<std::string> unescapeFieldValue(std::string_view s) {
  std::string out;
  bool inSlash = false;
  for (char c : s) {
    if (inSlash) {
      if (c != '\\' && c != ',' && c != '=') {
        return Status::badRequest(
            std::string("invalid field selector: invalid escape sequence: \\") + c);
      }
      out += c;
      inSlash = false;
      continue;
    }
    if (c == '\\') {
      inSlash = true;
    } else if (c == ',' || c == '=') {
      // Upstream prints the rune with %v, i.e. as its code point number.
      return Status::badRequest("invalid field selector: unescaped character in value: " +
                                std::to_string(static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  if (inSlash) return Status::badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

std::vector<std::string_view> splitFieldTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool inSlash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (inSlash) {
      inSlash = false;
    } else if (s[i] == '\\') {
      inSlash = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

}  // namespace

Labels labelsOf(const boost::json::object& obj) {
  Labels out;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->value().is_object()) return out;
  const auto& m = meta->value().get_object();
  auto labels = m.find("labels");
  if (labels == m.end() || !labels->value().is_object()) return out;
  for (const auto& [k, v] : labels->value().get_object()) {
    if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  Parser parser(text);
  auto reqs = parser.parse();
  if (!reqs.ok()) return reqs.status();
  LabelSelector sel;
  sel.requirements_ = std::move(reqs).value();
  sortByKey(sel.requirements_);
  return sel;
}

Result<LabelSelector> LabelSelector::fromJson(const boost::json::object& selector) {
  std::vector<Requirement> reqs;
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && !ml->value().is_null()) {
    if (!ml->value().is_object()) return Status::badRequest("matchLabels must be an object");
    for (const auto& [k, v] : ml->value().get_object()) {
      if (!v.is_string()) return Status::badRequest("matchLabels values must be strings");
      auto r = newRequirement(std::string(k), Op::kEquals, {std::string(v.get_string())}, "");
      if (!r.ok()) return r.status();
      reqs.push_back(std::move(r).value());
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && !me->value().is_null()) {
    if (!me->value().is_array()) return Status::badRequest("matchExpressions must be an array");
    for (const auto& e : me->value().get_array()) {
      if (!e.is_object()) return Status::badRequest("matchExpressions items must be objects");
      const auto& eo = e.get_object();
      std::string key, op;
      if (auto k = eo.find("key"); k != eo.end() && k->value().is_string()) {
        key = std::string(k->value().get_string());
      }
      if (auto o = eo.find("operator"); o != eo.end() && o->value().is_string()) {
        op = std::string(o->value().get_string());
      }
      std::vector<std::string> values;
      if (auto vs = eo.find("values"); vs != eo.end() && vs->value().is_array()) {
        for (const auto& v : vs->value().get_array()) {
          if (!v.is_string()) return Status::badRequest("matchExpressions values must be strings");
          values.emplace_back(v.get_string());
        }
      }
      Op parsedOp;
      if (op == "In") {
        parsedOp = Op::kIn;
      } else if (op == "NotIn") {
        parsedOp = Op::kNotIn;
      } else if (op == "Exists") {
        parsedOp = Op::kExists;
      } else if (op == "DoesNotExist") {
        parsedOp = Op::kDoesNotExist;
      } else {
        return Status::badRequest(goQuote(op) + " is not a valid label selector operator");
      }
      auto r = newRequirement(std::move(key), parsedOp, std::move(values), "");
      if (!r.ok()) return r.status();
      reqs.push_back(std::move(r).value());
    }
  }
  LabelSelector sel;
  sel.requirements_ = std::move(reqs);
  sortByKey(sel.requirements_);
  return sel;
}

bool LabelSelector::matches(const Labels& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return requirementMatches(r, labels); });
}

std::string LabelSelector::toString() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    const auto& r = requirements_[i];
    if (i) out += ',';
    if (r.op == Op::kDoesNotExist) out += '!';
    out += r.key;
    std::string values = join(r.values, ",");
    switch (r.op) {
      case Op::kExists:
      case Op::kDoesNotExist:
        break;
      case Op::kEquals:
        out += "=" + values;
        break;
      case Op::kNotEquals:
        out += "!=" + values;
        break;
      case Op::kIn:
        out += " in (" + values + ")";
        break;
      case Op::kNotIn:
        out += " notin (" + values + ")";
        break;
      case Op::kGreaterThan:
        out += ">" + values;
        break;
      case Op::kLessThan:
        out += "<" + values;
        break;
    }
  }
  return out;
}

std::optional<std::string> LabelSelector::exactValue(std::string_view key) const {
  for (const auto& r : requirements_) {
    if (r.key != key) continue;
    if ((r.op == Op::kEquals || r.op == Op::kIn) && r.values.size() == 1) return r.values[0];
    return std::nullopt;
  }
  return std::nullopt;
}

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  auto terms = splitFieldTerms(text);
  std::sort(terms.begin(), terms.end());
  FieldSelector sel;
  for (auto term : terms) {
    if (term.empty()) continue;
    // The first position where "!=", "==" or "=" starts splits the term.
    size_t at = std::string_view::npos;
    size_t opLen = 0;
    bool equals = true;
    for (size_t i = 0; i < term.size(); ++i) {
      std::string_view rest = term.substr(i);
      if (rest.starts_with("!=")) {
        at = i, opLen = 2, equals = false;
      } else if (rest.starts_with("==")) {
        at = i, opLen = 2;
      } else if (rest.starts_with("=")) {
        at = i, opLen = 1;
      } else {
        continue;
      }
      break;
    }
    if (at == std::string_view::npos) {
      return Status::badRequest("invalid selector: '" + std::string(text) +
                                "'; can't understand '" + std::string(term) + "'");
    }
    auto value = unescapeFieldValue(term.substr(at + opLen));
    if (!value.ok()) return value.status();
    sel.requirements_.push_back(
        {std::string(term.substr(0, at)), equals, std::move(value).value()});
  }
  return sel;
}

bool FieldSelector::matches(const std::map<std::string, std::string>& fields) const {
  for (const auto& r : requirements_) {
    auto it = fields.find(r.field);
    std::string_view have = it == fields.end() ? std::string_view() : std::string_view(it->second);
    if ((have == r.value) != r.equals) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::exactValue(std::string_view field) const {
  for (const auto& r : requirements_) {
    if (r.field == field && r.equals) return r.value;
  }
  return std::nullopt;
}

std::string FieldSelector::toString() const {
  std::vector<std::string> terms;
  for (const auto& r : requirements_) {
    terms.push_back(r.field + (r.equals ? "=" : "!=") + escapeFieldValue(r.value));
  }
  std::sort(terms.begin(), terms.end());
  return join(terms, ",");
}

}  // namespace berth::core
