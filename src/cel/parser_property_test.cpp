// Property tests of the CEL front end (the project standard for parsers): random token soup
// never crashes the parser or the checker; random well-formed expressions print back to source
// that parses to the same tree, and both trees evaluate to the same value.
#include <gtest/gtest.h>

#include <random>

#include "cel/cel.h"

namespace berth::cel {
namespace {

Env propertyEnv(bool libraries = false) {
  Env env;
  env.variables["x"] = Type::of(Type::K::kDyn);
  env.extensionLibraries = libraries;
  return env;
}

TEST(CelProperty, RandomTokensNeverCrash) {
  static const char* kTokens[] = {"(",        ")",          "[",
                                  "]",        "{",          "}",
                                  ".",        ",",          ":",
                                  "?",        "!",          "-",
                                  "+",        "*",          "/",
                                  "%",        "<",          "<=",
                                  ">",        ">=",         "==",
                                  "!=",       "&&",         "||",
                                  "in",       "has",        "exists",
                                  "all",      "map",        "filter",
                                  "size",     "x",          "y",
                                  "1",        "0x1f",       "2u",
                                  "1.5e3",    ".5",         "'s'",
                                  "\"q\"",    "b'\\xff'",   "r'\\d'",
                                  "'''t'''",  "true",       "null",
                                  "if",       "'",          "\\",
                                  "@",        "#",          "9223372036854775808",
                                  "'\\u12'",  "matches",    "int",
                                  "string",   " ",          "\n",
                                  "//c\n",    ".?",         "[?",
                                  "type",     "optional",   "of",
                                  "orValue",  "timestamp",  "duration",
                                  "quantity", "'1Gi'",      "ip",
                                  "cidr",     "url",        "'10.0.0.0/8'",
                                  "optMap",   "optFlatMap", "format",
                                  "unwrap",   "'%d %s'",    "dns1123Label",
                                  "validate", "named",      "{?"};
  std::mt19937 rng(12345);
  Activation act{{"x", Value::integer(3)}};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string src;
    int n = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) src += kTokens[rng() % std::size(kTokens)];
    auto compiled = compile(src, propertyEnv(iter % 2 == 0));
    if (auto* p = std::get_if<std::shared_ptr<const Program>>(&compiled)) {
      (void)evaluate(**p, act, 10000);  // any value or error, never a crash
    } else {
      EXPECT_EQ(std::get<CompileError>(compiled).message.rfind("ERROR: <input>:", 0), 0u) << src;
    }
  }
  // Random bytes, including NUL and invalid UTF-8.
  for (int iter = 0; iter < 5000; ++iter) {
    std::string src(rng() % 40, '\0');
    for (auto& c : src) c = static_cast<char>(rng());
    (void)compile(src, propertyEnv());
  }
}

// A generator of well-formed expressions over x (an int) and literals.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  std::string expr(int depth) {
    if (depth <= 0) return leaf();
    switch (rng_() % 12) {
      case 0:
        return "(" + expr(depth - 1) + " " + pick({"+", "-", "*", "/", "%"}) + " " +
               expr(depth - 1) + ")";
      case 1:
        return "(" + expr(depth - 1) + " " + pick({"==", "!=", "<", "<=", ">", ">="}) + " " +
               expr(depth - 1) + ")";
      case 2:
        return "(" + expr(depth - 1) + " " + pick({"&&", "||"}) + " " + expr(depth - 1) + ")";
      case 3:
        return "(" + expr(depth - 1) + " ? " + expr(depth - 1) + " : " + expr(depth - 1) + ")";
      case 4:
        return "[" + expr(depth - 1) + ", " + expr(depth - 1) + "]";
      case 5:
        return "{'a': " + expr(depth - 1) + ", 'b': " + expr(depth - 1) + "}";
      case 6:
        return "[x, dyn(2), x].exists(v, " + expr(depth - 1) + ")";  // dyn: one element type
      case 7:
        return "[1, 2, 3].map(v, " + expr(depth - 1) + ")";
      case 8:
        return "size(" + expr(depth - 1) + ")";
      case 9:
        return "!" + expr(depth - 1);
      case 10:
        return expr(depth - 1) + " in [dyn(1), dyn('a'), dyn(true)]";
      default:
        return "{'k': " + expr(depth - 1) + "}.k";
    }
  }

 private:
  std::string leaf() {
    switch (rng_() % 9) {
      case 0:
        return std::to_string(static_cast<int>(rng_() % 200) - 100);
      case 1:
        return std::to_string(rng_() % 50) + "u";
      case 2:
        return std::to_string(rng_() % 100) + ".25";
      case 3:
        return pick({"'ab'", "\"\\t\"", "'\\u00e9'", "r'\\n'", "''"});
      case 4:
        return pick({"true", "false", "null"});
      case 5:
        return "b'\\x01z'";
      case 6:
        return "v";  // only bound inside macros; an error value elsewhere
      default:
        return "x";
    }
  }
  std::string pick(std::initializer_list<const char*> options) {
    auto it = options.begin();
    std::advance(it, rng_() % options.size());
    return *it;
  }
  std::mt19937 rng_;
};

TEST(CelProperty, WellFormedExpressionsRoundTripAndEvaluateAlike) {
  Env env = propertyEnv();
  env.variables["v"] = Type::of(Type::K::kDyn);  // so the checker accepts stray `v` leaves
  Activation act{{"x", Value::integer(7)}};
  int compiled = 0;
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    Gen gen(seed);
    std::string src = gen.expr(1 + seed % 4);
    auto first = parse(src);
    ASSERT_TRUE(std::holds_alternative<ExprPtr>(first)) << src << "\n"
                                                        << std::get<CompileError>(first).message;
    std::string printed = unparse(*std::get<ExprPtr>(first));
    auto second = parse(printed);
    ASSERT_TRUE(std::holds_alternative<ExprPtr>(second)) << printed;
    EXPECT_EQ(unparse(*std::get<ExprPtr>(second)), printed) << src;

    auto a = compile(src, env);
    auto b = compile(printed, env);
    ASSERT_EQ(a.index(), b.index()) << src << "\n" << printed;
    if (a.index() != 0) continue;  // a static type error, found the same way in both
    ++compiled;
    Value va = evaluate(*std::get<0>(a), act), vb = evaluate(*std::get<0>(b), act);
    EXPECT_EQ(va.debugString(), vb.debugString()) << src << "\n" << printed;
  }
  EXPECT_GT(compiled, 600);  // a good share of the generated expressions type-check
}

}  // namespace
}  // namespace berth::cel
