// The extension libraries of CRD validation rules: type checking and evaluation. Messages of
// runtime errors follow cel-go's ext package ("index out of range: 5").
#include "cel/extensions.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>

#include "cel/functions.h"

namespace berth::cel::detail {
namespace {

using K = Type::K;

// One overload: receiver and argument kinds (kDyn = any), and how the result type follows.
enum class Result { kString, kInt, kBool, kStringList, kElem };
struct Overload {
  std::vector<K> operands;  // receiver first
  Result result;
};

const std::map<std::string, std::vector<Overload>>& overloads() {
  static const std::map<std::string, std::vector<Overload>> kOverloads = {
      {"charAt", {{{K::kString, K::kInt}, Result::kString}}},
      {"indexOf",
       {{{K::kString, K::kString}, Result::kInt},
        {{K::kString, K::kString, K::kInt}, Result::kInt},
        {{K::kList, K::kDyn}, Result::kInt}}},
      {"lastIndexOf",
       {{{K::kString, K::kString}, Result::kInt},
        {{K::kString, K::kString, K::kInt}, Result::kInt},
        {{K::kList, K::kDyn}, Result::kInt}}},
      {"lowerAscii", {{{K::kString}, Result::kString}}},
      {"upperAscii", {{{K::kString}, Result::kString}}},
      {"trim", {{{K::kString}, Result::kString}}},
      {"reverse", {{{K::kString}, Result::kString}}},
      {"replace",
       {{{K::kString, K::kString, K::kString}, Result::kString},
        {{K::kString, K::kString, K::kString, K::kInt}, Result::kString}}},
      {"split",
       {{{K::kString, K::kString}, Result::kStringList},
        {{K::kString, K::kString, K::kInt}, Result::kStringList}}},
      {"substring",
       {{{K::kString, K::kInt}, Result::kString},
        {{K::kString, K::kInt, K::kInt}, Result::kString}}},
      {"join", {{{K::kList}, Result::kString}, {{K::kList, K::kString}, Result::kString}}},
      {"isSorted", {{{K::kList}, Result::kBool}}},
      {"sum", {{{K::kList}, Result::kElem}}},
      {"min", {{{K::kList}, Result::kElem}}},
      {"max", {{{K::kList}, Result::kElem}}},
      {"find", {{{K::kString, K::kString}, Result::kString}}},
      {"findAll",
       {{{K::kString, K::kString}, Result::kStringList},
        {{K::kString, K::kString, K::kInt}, Result::kStringList}}},
  };
  return kOverloads;
}

bool fits(const Type& t, K want) { return want == K::kDyn || t.k == K::kDyn || t.k == want; }

Type resultType(Result r, const Type& receiver) {
  switch (r) {
    case Result::kString:
      return Type::of(K::kString);
    case Result::kInt:
      return Type::of(K::kInt);
    case Result::kBool:
      return Type::of(K::kBool);
    case Result::kStringList:
      return Type::listOf(Type::of(K::kString));
    case Result::kElem:
      return receiver.elemType();
  }
  return Type::of(K::kDyn);
}

// Byte offsets of each code point of a UTF-8 string, plus its size at the end.
std::vector<size_t> codePointOffsets(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

Value outOfRange(int64_t i) { return Value::error("index out of range: " + std::to_string(i)); }

Value charAt(const std::string& s, int64_t i) {
  auto cps = codePointOffsets(s);
  int64_t n = static_cast<int64_t>(cps.size()) - 1;
  if (i < 0 || i > n) return outOfRange(i);
  if (i == n) return Value::string("");
  return Value::string(s.substr(cps[i], cps[i + 1] - cps[i]));
}

// Code point index of the first (or last) occurrence of `sub` at or after (at or before)
// `from`; -1 when absent.
Value indexOf(const std::string& s, const std::string& sub, std::optional<int64_t> from,
              bool last) {
  auto cps = codePointOffsets(s);
  int64_t n = static_cast<int64_t>(cps.size()) - 1;
  int64_t start = from.value_or(last ? n : 0);
  if (start < 0 || start > n) return outOfRange(start);
  if (!last) {
    size_t pos = s.find(sub, cps[start]);
    if (pos == std::string::npos) return Value::integer(-1);
    return Value::integer(std::lower_bound(cps.begin(), cps.end(), pos) - cps.begin());
  }
  size_t pos = s.rfind(sub, cps[start]);
  if (pos == std::string::npos) return Value::integer(-1);
  return Value::integer(std::lower_bound(cps.begin(), cps.end(), pos) - cps.begin());
}

Value substring(const std::string& s, int64_t begin, std::optional<int64_t> end) {
  auto cps = codePointOffsets(s);
  int64_t n = static_cast<int64_t>(cps.size()) - 1;
  int64_t e = end.value_or(n);
  if (begin < 0 || begin > n) return outOfRange(begin);
  if (e < 0 || e > n) return outOfRange(e);
  if (begin > e) {
    return Value::error("invalid substring range. start: " + std::to_string(begin) +
                        ", end: " + std::to_string(e));
  }
  return Value::string(s.substr(cps[begin], cps[e] - cps[begin]));
}

Value replace(const std::string& s, const std::string& from, const std::string& to, int64_t n) {
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  while (n < 0 || done < n) {
    size_t at;
    if (from.empty()) {
      // Go's strings.Replace: an empty old string matches before every code point and at the end.
      if (pos > s.size()) break;
      at = pos;
    } else {
      at = s.find(from, pos);
      if (at == std::string::npos) break;
    }
    out.append(s, pos, at - pos);
    out += to;
    ++done;
    if (from.empty()) {
      if (at == s.size()) {
        pos = s.size() + 1;
        break;
      }
      size_t next = at + 1;
      while (next < s.size() && (static_cast<unsigned char>(s[next]) & 0xC0) == 0x80) ++next;
      out.append(s, at, next - at);
      pos = next;
    } else {
      pos = at + from.size();
    }
  }
  if (pos <= s.size()) out.append(s, pos, std::string::npos);
  return Value::string(std::move(out));
}

Value split(const std::string& s, const std::string& sep, int64_t n) {
  ValueList parts;
  if (n == 0) return Value::list({});
  if (sep.empty()) {
    auto cps = codePointOffsets(s);
    for (size_t i = 0; i + 1 < cps.size(); ++i) {
      if (n > 0 && static_cast<int64_t>(parts.size()) == n - 1) {
        parts.push_back(Value::string(s.substr(cps[i])));
        return Value::list(std::move(parts));
      }
      parts.push_back(Value::string(s.substr(cps[i], cps[i + 1] - cps[i])));
    }
    return Value::list(std::move(parts));
  }
  size_t pos = 0;
  while (n < 0 || static_cast<int64_t>(parts.size()) < n - 1) {
    size_t at = s.find(sep, pos);
    if (at == std::string::npos) break;
    parts.push_back(Value::string(s.substr(pos, at - pos)));
    pos = at + sep.size();
  }
  parts.push_back(Value::string(s.substr(pos)));
  return Value::list(std::move(parts));
}

Value trim(const std::string& s) {
  // Unicode white space as Go's unicode.IsSpace, for the ASCII and the common non-ASCII forms.
  auto isSpace = [](const std::string& s, size_t i, size_t* len) {
    unsigned char c = s[i];
    *len = 1;
    if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
    if (c == 0xC2 && i + 1 < s.size() &&
        (static_cast<unsigned char>(s[i + 1]) == 0x85 ||
         static_cast<unsigned char>(s[i + 1]) == 0xA0)) {
      *len = 2;
      return true;
    }
    return false;
  };
  size_t b = 0, len = 0;
  while (b < s.size() && isSpace(s, b, &len)) b += len;
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!isSpace(s, start, &len) || start + len != e) break;
    e = start;
  }
  return Value::string(s.substr(b, e - b));
}

Value reverse(const std::string& s) {
  auto cps = codePointOffsets(s);
  std::string out;
  for (size_t i = cps.size() - 1; i > 0; --i) out.append(s, cps[i - 1], cps[i] - cps[i - 1]);
  return Value::string(std::move(out));
}

std::string asciiCase(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Value join(const Value& list, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    Value v = list.at(i);
    if (v.kind() != Kind::kString) return noSuchOverload("join", {list});
    if (i) out += sep;
    out += v.asString();
  }
  return Value::string(std::move(out));
}

Value listIndexOf(const Value& list, const Value& x, bool last) {
  int64_t found = -1;
  for (size_t i = 0; i < list.size(); ++i) {
    if (equals(list.at(i), x)) {
      found = static_cast<int64_t>(i);
      if (!last) break;
    }
  }
  return Value::integer(found);
}

Value isSorted(const Value& list) {
  for (size_t i = 1; i < list.size(); ++i) {
    auto c = compare(list.at(i - 1), list.at(i));
    if (!c) return noSuchOverload("isSorted", {list});
    if (*c > 0) return Value::boolean(false);
  }
  return Value::boolean(true);
}

Value sum(const Value& list) {
  if (list.size() == 0) return Value::integer(0);
  Value acc = list.at(0);
  for (size_t i = 1; i < list.size(); ++i) {
    acc = callFunction("_+_", {acc, list.at(i)});
    if (acc.isError()) return acc;
  }
  if (acc.kind() != Kind::kInt && acc.kind() != Kind::kUint && acc.kind() != Kind::kDouble)
    return noSuchOverload("sum", {list});
  return acc;
}

Value extreme(const Value& list, bool max) {
  const char* fn = max ? "max" : "min";
  if (list.size() == 0) return Value::error(std::string(fn) + "(list) argument must not be empty");
  Value best = list.at(0);
  for (size_t i = 1; i < list.size(); ++i) {
    Value v = list.at(i);
    auto c = compare(v, best);
    if (!c) return noSuchOverload(fn, {list});
    if (max ? *c > 0 : *c < 0) best = v;
  }
  if (!compare(best, best)) return noSuchOverload(fn, {list});
  return best;
}

Value findRegex(const std::string& s, const std::string& pattern, int64_t limit, bool all) {
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(pattern, opts);
  if (!re.ok()) return Value::error("invalid regular expression: " + re.error());
  re2::StringPiece input(s);
  ValueList found;
  re2::StringPiece match;
  size_t pos = 0;
  while (pos <= s.size() && (limit < 0 || static_cast<int64_t>(found.size()) < limit)) {
    if (!re.Match(input, pos, s.size(), RE2::UNANCHORED, &match, 1)) break;
    found.push_back(Value::string(std::string(match)));
    size_t end = static_cast<size_t>(match.data() - s.data()) + match.size();
    pos = match.empty() ? end + 1 : end;
    if (!all) break;
  }
  if (!all) return found.empty() ? Value::string("") : found[0];
  return Value::list(std::move(found));
}

}  // namespace

std::optional<Type> checkExtensionCall(const Expr& e, const std::vector<Type>& types) {
  if (!e.target) return std::nullopt;
  auto it = overloads().find(e.name);
  if (it == overloads().end()) return std::nullopt;
  for (const auto& o : it->second) {
    if (o.operands.size() != types.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < types.size() && ok; ++i) ok = fits(types[i], o.operands[i]);
    if (ok) return resultType(o.result, types[0]);
  }
  // cel-go renders a member call's operands as "receiver.(args)".
  std::string args;
  for (size_t i = 1; i < types.size(); ++i) args += (i > 1 ? ", " : "") + types[i].name();
  throw CheckError{e.offset, "found no matching overload for '" + e.name + "' applied to '" +
                                 types[0].name() + ".(" + args + ")'"};
}

std::optional<Value> callExtensionFunction(const std::string& fn, const std::vector<Value>& a) {
  if (a.empty() || overloads().count(fn) == 0) return std::nullopt;
  const Value& r = a[0];
  auto str = [&](size_t i) { return a.size() > i && a[i].kind() == Kind::kString; };
  auto num = [&](size_t i) { return a.size() > i && a[i].kind() == Kind::kInt; };
  bool list = r.kind() == Kind::kList;
  if (list) {
    if (a.size() == 1 && fn == "isSorted") return isSorted(r);
    if (a.size() == 1 && fn == "sum") return sum(r);
    if (a.size() == 1 && (fn == "min" || fn == "max")) return extreme(r, fn == "max");
    if (a.size() == 2 && (fn == "indexOf" || fn == "lastIndexOf"))
      return listIndexOf(r, a[1], fn == "lastIndexOf");
    if (fn == "join" && (a.size() == 1 || (a.size() == 2 && str(1))))
      return join(r, a.size() == 2 ? a[1].asString() : "");
    return noSuchOverload(fn, a);
  }
  if (!str(0)) return noSuchOverload(fn, a);
  const std::string& s = r.asString();
  if (fn == "charAt" && a.size() == 2 && num(1)) return charAt(s, a[1].asInt());
  if ((fn == "indexOf" || fn == "lastIndexOf") && str(1) && (a.size() == 2 || num(2))) {
    return indexOf(s, a[1].asString(),
                   a.size() == 3 ? std::optional<int64_t>(a[2].asInt()) : std::nullopt,
                   fn == "lastIndexOf");
  }
  if (a.size() == 1 && (fn == "lowerAscii" || fn == "upperAscii"))
    return Value::string(asciiCase(s, fn == "upperAscii"));
  if (a.size() == 1 && fn == "trim") return trim(s);
  if (a.size() == 1 && fn == "reverse") return reverse(s);
  if (fn == "replace" && str(1) && str(2) && (a.size() == 3 || num(3)))
    return replace(s, a[1].asString(), a[2].asString(), a.size() == 4 ? a[3].asInt() : -1);
  if (fn == "split" && str(1) && (a.size() == 2 || num(2)))
    return split(s, a[1].asString(), a.size() == 3 ? a[2].asInt() : -1);
  if (fn == "substring" && num(1) && (a.size() == 2 || num(2))) {
    return substring(s, a[1].asInt(),
                     a.size() == 3 ? std::optional<int64_t>(a[2].asInt()) : std::nullopt);
  }
  if (fn == "find" && a.size() == 2 && str(1)) return findRegex(s, a[1].asString(), 1, false);
  if (fn == "findAll" && str(1) && (a.size() == 2 || num(2)))
    return findRegex(s, a[1].asString(), a.size() == 3 ? a[2].asInt() : -1, true);
  return noSuchOverload(fn, a);
}

}  // namespace berth::cel::detail
