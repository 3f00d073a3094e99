// Where Berth's CEL must print and type as cel-go in Kubernetes does: Go's strconv.Quote for
// quoted strings (goQuote), string.format's quoting inside lists and maps, and the homogeneous
// aggregate literal validator that every Kubernetes CEL environment turns on.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cel/cel.h"

namespace berth::cel {
namespace {

using K = Type::K;

Env env(bool libraries) {
  Env e;
  e.extensionLibraries = libraries;
  e.variables["self"] = Type::mapOf(Type::of(K::kString));
  e.variables["n"] = Type::of(K::kInt);
  e.variables["d"] = Type::of(K::kDyn);
  return e;
}

// The value's debug form, or "COMPILE: " and the compile error.
std::string eval(const std::string& expr, bool libraries = true) {
  auto compiled = compile(expr, env(libraries));
  if (auto* err = std::get_if<CompileError>(&compiled)) return "COMPILE: " + err->message;
  static const boost::json::value self = boost::json::object{{"app", "web"}};  // outlives values
  Activation act{
      {"self", Value::fromJson(self)}, {"n", Value::integer(2)}, {"d", Value::integer(3)}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act).debugString();
}

TEST(GoQuote, AsStrconvQuote) {
  EXPECT_EQ(goQuote(""), "\"\"");
  EXPECT_EQ(goQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(goQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(goQuote(std::string("\x00\x01\x1f\x7f", 4)), "\"\\x00\\x01\\x1f\\x7f\"");
  EXPECT_EQ(goQuote("h\xc3\xa9llo \xe4\xb8\x96 \xf0\x9f\x98\x80"),
            "\"h\xc3\xa9llo \xe4\xb8\x96 \xf0\x9f\x98\x80\"");  // printable runes as they are
  // Bytes that are not UTF-8 (a lone continuation byte, a truncated sequence, an overlong
  // encoding, a surrogate) are \x escapes, one per byte.
  EXPECT_EQ(goQuote("\x80"), "\"\\x80\"");
  EXPECT_EQ(goQuote("a\xe4\xb8"), "\"a\\xe4\\xb8\"");
  EXPECT_EQ(goQuote("\xc0\xaf"), "\"\\xc0\\xaf\"");
  EXPECT_EQ(goQuote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");
  // Runes Go does not print: C1 controls, no-break and other spaces, format characters,
  // private use.
  EXPECT_EQ(goQuote("\xc2\x85"), "\"\\u0085\"");
  EXPECT_EQ(goQuote("\xc2\xa0"), "\"\\u00a0\"");
  EXPECT_EQ(goQuote("\xe2\x80\x8b"), "\"\\u200b\"");
  EXPECT_EQ(goQuote("\xef\xbb\xbf"), "\"\\ufeff\"");
  EXPECT_EQ(goQuote("\xf3\xb0\x80\x80"), "\"\\U000f0000\"");
}

TEST(GoQuote, DebugFormsAndMessagesUseIt) {
  EXPECT_EQ(eval("'a\\tb\\nc'"), "\"a\\tb\\nc\"");
  EXPECT_EQ(eval("b'\\xff\\x00'"), "b\"\\xff\\x00\"");
  // Go's strconv error text quotes its input with strconv.Quote.
  EXPECT_EQ(eval("timestamp('2024-07-01T03:30:00Z').getHours('\\t:00')"),
            "error(\"strconv.Atoi: parsing \\\"\\\\t\\\": invalid syntax\")");
}

// cel-go's quoteForCEL: strings and bytes inside a list or map print as Go's %q (b%q), and so
// do NaN and the infinities; at the top level they are bare.
TEST(StringFormat, QuotesNestedValuesAsCelGo) {
  EXPECT_EQ(eval("'%s'.format([['a\\nb', 'c\"d']])"), "\"[\\\"a\\\\nb\\\", \\\"c\\\\\\\"d\\\"]\"");
  EXPECT_EQ(eval("'%s'.format(['a\\nb'])"), "\"a\\nb\"");
  EXPECT_EQ(eval("'%s'.format([[b'xy']])"), "\"[b\\\"xy\\\"]\"");
  EXPECT_EQ(eval("'%s'.format([{'k': double('NaN')}])"), "\"{\\\"k\\\":\\\"NaN\\\"}\"");
  EXPECT_EQ(eval("'%s'.format([[double('-Infinity')]])"), "\"[\\\"-Infinity\\\"]\"");
}

// Kubernetes' base environment has cel.HomogeneousAggregateLiterals(): cel-go's validator
// rejects list and map literals whose entries differ in type ("expected type 'int' but found
// 'string'" at the entry), except inside a string format() call's arguments.
TEST(HomogeneousLiterals, MixedLiteralsAreRefused) {
  for (bool libraries : {true, false}) {  // CRD rules and matchConditions alike
    EXPECT_EQ(eval("[1, 'a'].size()", libraries),
              "COMPILE: ERROR: <input>:1:5: expected type 'int' but found 'string'\n"
              " | [1, 'a'].size()\n"
              " | ....^")
        << libraries;
  }
  EXPECT_EQ(eval("[1, 2.0]"),
            "COMPILE: ERROR: <input>:1:5: expected type 'int' but found 'double'\n"
            " | [1, 2.0]\n"
            " | ....^");
  // Nor is a list of another element type.
  EXPECT_NE(eval("[[1], ['a']]").find("expected type 'list(int)' but found 'list(string)'"),
            std::string::npos);
  // Maps: keys and values each, every mismatch reported, in source order.
  std::string m = eval("{'a': 1, 'b': 'x', 2: 3}");
  EXPECT_NE(m.find("<input>:1:15: expected type 'int' but found 'string'"), std::string::npos) << m;
  EXPECT_NE(m.find("<input>:1:20: expected type 'string' but found 'int'"), std::string::npos) << m;
  EXPECT_LT(m.find(":1:15:"), m.find(":1:20:"));
  // Type errors come first: the validator runs only on a checked expression.
  EXPECT_NE(eval("[1, 'a'].size() + 'x'").find("no matching overload for '_+_'"),
            std::string::npos);
}

TEST(HomogeneousLiterals, AgreeingLiteralsAreTyped) {
  EXPECT_EQ(eval("[1, 2, n].map(x, x * 2)"), "[2, 4, 4]");
  EXPECT_EQ(eval("[[1], []].size()"), "2");  // an empty literal takes the other's type
  EXPECT_EQ(eval("[{'a': 1}, {}].size()"), "2");
  EXPECT_EQ(eval("[?optional.of(1), 2]"), "[1, 2]");
  EXPECT_EQ(eval("[?optional.none(), 2, ?optional.of(7).optMap(v, v + 1)]"), "[2, 8]");
  EXPECT_EQ(eval("{'a': self.app, 'b': 'x'}.a"), "\"web\"");
  // The element type flows on: a string method on an int list's element is no overload.
  EXPECT_NE(eval("[1, 2].exists(x, x.startsWith('a'))").find("found no matching overload"),
            std::string::npos);
  // Inside format()'s arguments any mix is allowed, nested lists and maps included.
  EXPECT_EQ(eval("'%s %d %s'.format(['a', 1, [2, 'b']])"), "\"a 1 [2, \\\"b\\\"]\"");
  EXPECT_EQ(eval("'%s'.format([{'k': [1, 'x']}])"), "\"{\\\"k\\\":[1, \\\"x\\\"]}\"");
}

}  // namespace
}  // namespace berth::cel
