// cel-go's optional syntax beyond a.?b and m[?k]: optional list elements and map entries
// ([?a], {?k: v}), the optMap and optFlatMap macros, and named time zones in timestamp
// accessors; plus a property test that random optional entries print back and evaluate alike.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "cel/cel.h"

namespace berth::cel {
namespace {

using K = Type::K;

Env env(bool libraries = true) {
  Env e;
  e.extensionLibraries = libraries;
  auto fields = std::make_shared<std::map<std::string, Type>>();
  (*fields)["name"] = Type::of(K::kString);
  (*fields)["labels"] = Type::mapOf(Type::of(K::kString));
  e.variables["self"] = Type{K::kObject, "object", fields, nullptr};
  return e;
}

std::string eval(const std::string& expr, bool libraries = true) {
  static const boost::json::value self =
      boost::json::parse(R"({"name": "web", "labels": {"app": "web"}})");
  auto compiled = compile(expr, env(libraries));
  if (auto* err = std::get_if<CompileError>(&compiled)) return "COMPILE: " + err->message;
  Activation act{{"self", Value::fromJson(self)}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act).debugString();
}

TEST(CelOptionalSyntax, ListAndMapEntries) {
  EXPECT_EQ(eval("[1, ?optional.of(2), ?optional.none(), 3]"), "[1, 2, 3]");
  EXPECT_EQ(eval("[?self.labels[?'app'], ?self.labels[?'tier']]"), "[\"web\"]");
  EXPECT_EQ(eval("size([?self.labels.?nope])"), "0");
  EXPECT_EQ(eval("{'a': 1, ?'b': optional.none(), ?'c': optional.of(3)}"), "{\"a\": 1, \"c\": 3}");
  EXPECT_EQ(eval("{?'app': self.labels[?'app']}.app"), "\"web\"");
  EXPECT_EQ(eval("has({?'x': optional.none()}.x)"), "false");
  // The entry must be an optional, statically when known and at runtime when dyn.
  EXPECT_EQ(eval("[?1]").rfind("COMPILE: ERROR: <input>:1:3: expected type 'optional_type' but "
                               "found 'int'",
                               0),
            0u)
      << eval("[?1]");
  EXPECT_EQ(eval("{?'k': 'v'}").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("[?dyn(1)]"),
            "error(\"cannot initialize optional entry from non-optional value 1\")");
  // Off where the optional library is not declared.
  EXPECT_EQ(eval("[?optional.of(1)]", false).rfind("COMPILE:", 0), 0u);
}

TEST(CelOptionalSyntax, OptMapAndOptFlatMap) {
  EXPECT_EQ(eval("self.labels[?'app'].optMap(v, v + '-x')"), "optional.of(\"web-x\")");
  EXPECT_EQ(eval("self.labels[?'tier'].optMap(v, v + '-x')"), "optional.none()");
  EXPECT_EQ(eval("self.labels[?'app'].optMap(v, size(v)).orValue(0)"), "3");
  EXPECT_EQ(eval("self.labels[?'app'].optFlatMap(v, v == 'web' ? optional.of(1) : "
                 "optional.none())"),
            "optional.of(1)");
  EXPECT_EQ(eval("self.labels[?'app'].optFlatMap(v, optional.none()).hasValue()"), "false");
  EXPECT_EQ(eval("optional.none().optFlatMap(v, optional.of(v))"), "optional.none()");
  // The variable is scoped to the body.
  EXPECT_EQ(eval("optional.of(1).optMap(v, v) == optional.of(1) && v == 1")
                .rfind("COMPILE: ERROR: <input>:1:50: undeclared reference to 'v'", 0),
            0u)
      << eval("optional.of(1).optMap(v, v) == optional.of(1) && v == 1");
  EXPECT_EQ(eval("optional.of(1).optFlatMap(v, v)").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("optional.of(1).optMap(1, 2)"),
            "COMPILE: ERROR: <input>:1:23: optMap() variable name must be a simple identifier\n"
            " | optional.of(1).optMap(1, 2)\n"
            " | ......................^");
  EXPECT_EQ(eval("self.name.optMap(v, v)").rfind("COMPILE:", 0), 0u);
}

TEST(CelOptionalSyntax, Unwrap) {
  EXPECT_EQ(eval("optional.unwrap([optional.of(1), optional.none(), optional.of(3)])"), "[1, 3]");
  EXPECT_EQ(eval("[self.labels[?'app'], self.labels[?'tier']].unwrapOpt()"), "[\"web\"]");
  EXPECT_EQ(eval("optional.unwrap([]).size()"), "0");
  EXPECT_EQ(eval("optional.unwrap(1)").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("self.name.unwrapOpt()").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("optional.unwrap([dyn(1)])").rfind("error(", 0), 0u);
}

TEST(CelOptionalSyntax, NamedTimeZones) {
  std::string t = "timestamp('2024-07-01T03:30:00Z')";
  EXPECT_EQ(eval(t + ".getHours('America/New_York')"), "23");  // EDT, the previous day
  EXPECT_EQ(eval(t + ".getDate('America/New_York')"), "30");
  EXPECT_EQ(eval(t + ".getHours('Asia/Kolkata')"), "9");
  EXPECT_EQ(eval(t + ".getMinutes('Asia/Kolkata')"), "0");
  EXPECT_EQ(eval(t + ".getHours('UTC')"), "3");
  EXPECT_EQ(eval("timestamp('2024-01-15T03:30:00Z').getHours('America/New_York')"), "22");  // EST
  EXPECT_EQ(eval(t + ".getHours('+05:30')"), "9");
  EXPECT_EQ(eval(t + ".getMinutes('-00:30')"), "0");
  EXPECT_EQ(eval(t + ".getHours('-00:30')"), "3");
  EXPECT_EQ(eval(t + ".getHours('Mars/Base')"), "error(\"unknown time zone Mars/Base\")");
  EXPECT_EQ(eval(t + ".getHours('../../etc/passwd')"), "error(\"time: invalid location name\")");
  EXPECT_EQ(eval(t + ".getHours('x:00')"),
            "error(\"strconv.Atoi: parsing \\\"x\\\": invalid syntax\")");
}

// cel-go hands the name to time.LoadLocation, whose "Local" is the server's zone: $TZ when set
// (empty or "UTC": UTC), else /etc/localtime.
TEST(CelOptionalSyntax, LocalTimeZoneIsTheServers) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  std::string t = "timestamp('2024-07-01T03:30:00Z')";
  setenv("TZ", "Asia/Kolkata", 1);
  EXPECT_EQ(eval(t + ".getHours('Local')"), "9");
  EXPECT_EQ(eval(t + ".getMinutes('Local')"), "0");
  setenv("TZ", ":/usr/share/zoneinfo/America/New_York", 1);
  EXPECT_EQ(eval(t + ".getHours('Local')"), "23");
  EXPECT_EQ(eval(t + ".getDate('Local')"), "30");
  setenv("TZ", "", 1);
  EXPECT_EQ(eval(t + ".getHours('Local')"), "3");
  setenv("TZ", "Mars/Base", 1);  // a zone Go cannot load: UTC
  EXPECT_EQ(eval(t + ".getHours('Local')"), "3");
  EXPECT_EQ(eval(t + ".getHours('local')"), "error(\"unknown time zone local\")");
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
}

// The optional library's version 2 (cel-go 0.23, Kubernetes 1.33): list.first(), list.last().
TEST(CelOptionalSyntax, FirstAndLast) {
  EXPECT_EQ(eval("[1, 2, 3].first()"), "optional.of(1)");
  EXPECT_EQ(eval("[1, 2, 3].last()"), "optional.of(3)");
  EXPECT_EQ(eval("[].first()"), "optional.none()");
  EXPECT_EQ(eval("[].last().orValue(7)"), "7");
  EXPECT_EQ(eval("self.labels.map(k, k).first().value() == 'app'"), "true");
  EXPECT_EQ(eval("[1].first().value() + 1"), "2");  // typed: optional(int)
  EXPECT_EQ(eval("self.name.first()").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("[1].first()", false).rfind("COMPILE:", 0), 0u);  // not for matchConditions
}

// Random lists and maps with optional entries print back to source that parses to the same
// tree and evaluates to the same value.
TEST(CelOptionalSyntaxProperty, RoundTrip) {
  std::mt19937 rng(99);
  auto element = [&]() -> std::string {
    switch (rng() % 5) {
      case 0:
        return "?optional.of(" + std::to_string(rng() % 9) + ")";
      case 1:
        return "?optional.none()";
      case 2:
        return "?self.labels[?'app'].optMap(v, size(v))";  // int, as the others
      case 3:
        return "?optional.of(7).optMap(v, v * 2)";
      default:
        return std::to_string(rng() % 9);
    }
  };
  for (int iter = 0; iter < 2000; ++iter) {
    std::string src;
    int n = static_cast<int>(rng() % 5);
    if (iter % 2) {
      src = "[";
      for (int i = 0; i < n; ++i) src += (i ? ", " : "") + element();
      src += "]";
    } else {
      src = "{";
      for (int i = 0; i < n; ++i) {
        std::string e = element();
        std::string key = "'k" + std::to_string(i) + "': ";
        src += (i ? ", " : "") + (e[0] == '?' ? "?" + key + e.substr(1) : key + e);
      }
      src += "}";
    }
    auto first = parse(src);
    ASSERT_TRUE(std::holds_alternative<ExprPtr>(first)) << src;
    std::string printed = unparse(*std::get<ExprPtr>(first));
    auto second = parse(printed);
    ASSERT_TRUE(std::holds_alternative<ExprPtr>(second)) << printed;
    EXPECT_EQ(unparse(*std::get<ExprPtr>(second)), printed);
    EXPECT_EQ(eval(src), eval(printed)) << src;
    EXPECT_EQ(eval(src).find("error"), std::string::npos) << src << " = " << eval(src);
  }
}

}  // namespace
}  // namespace berth::cel
