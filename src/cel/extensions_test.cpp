// The extension libraries of CRD validation rules, typed variables, and a property test: random
// calls of the extension functions on random values never crash and always give a value.
#include "cel/extensions.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <random>

#include "cel/cel.h"

namespace berth::cel {
namespace {

using K = Type::K;

Env typedEnv() {
  Env env;
  env.extensionLibraries = true;
  auto fields = std::make_shared<std::map<std::string, Type>>();
  (*fields)["replicas"] = Type::of(K::kInt);
  (*fields)["name"] = Type::of(K::kString);
  (*fields)["tags"] = Type::listOf(Type::of(K::kString));
  (*fields)["labels"] = Type::mapOf(Type::of(K::kString));
  auto item = std::make_shared<std::map<std::string, Type>>();
  (*item)["port"] = Type::of(K::kInt);
  (*fields)["ports"] = Type::listOf(Type{K::kObject, "object", item, nullptr});
  env.variables["self"] = Type{K::kObject, "object", fields, nullptr};
  return env;
}

Value selfValue() {
  static const boost::json::value v = boost::json::parse(R"({
    "replicas": 3, "name": "Hello, World", "tags": ["b", "a", "c"],
    "labels": {"app": "web"}, "ports": [{"port": 80}, {"port": 443}]})");
  return Value::fromJson(v);
}

std::string eval(const std::string& expr) {
  auto compiled = compile(expr, typedEnv());
  if (auto* err = std::get_if<CompileError>(&compiled)) return "COMPILE: " + err->message;
  Activation act{{"self", selfValue()}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act).debugString();
}

std::string compileError(const std::string& expr) {
  auto compiled = compile(expr, typedEnv());
  auto* err = std::get_if<CompileError>(&compiled);
  return err ? err->message : "";
}

TEST(CelExtensions, Strings) {
  EXPECT_EQ(eval("self.name.lowerAscii()"), "\"hello, world\"");
  EXPECT_EQ(eval("self.name.upperAscii()"), "\"HELLO, WORLD\"");
  EXPECT_EQ(eval("self.name.charAt(4)"), "\"o\"");
  EXPECT_EQ(eval("self.name.indexOf('o')"), "4");
  EXPECT_EQ(eval("self.name.indexOf('o', 5)"), "8");
  EXPECT_EQ(eval("self.name.lastIndexOf('o')"), "8");
  EXPECT_EQ(eval("self.name.indexOf('zz')"), "-1");
  EXPECT_EQ(eval("self.name.substring(7)"), "\"World\"");
  EXPECT_EQ(eval("self.name.substring(0, 5)"), "\"Hello\"");
  EXPECT_EQ(eval("self.name.replace('l', 'L')"), "\"HeLLo, WorLd\"");
  EXPECT_EQ(eval("self.name.replace('l', 'L', 1)"), "\"HeLlo, World\"");
  EXPECT_EQ(eval("self.name.split(', ')"), "[\"Hello\", \"World\"]");
  EXPECT_EQ(eval("'a,b,c'.split(',', 2)"), "[\"a\", \"b,c\"]");
  EXPECT_EQ(eval("'  x y \\t'.trim()"), "\"x y\"");
  EXPECT_EQ(eval("'abc'.reverse()"), "\"cba\"");
  EXPECT_EQ(eval("'héllo'.charAt(1)"), "\"é\"");
  EXPECT_EQ(eval("'héllo'.indexOf('l')"), "2");
  EXPECT_EQ(eval("self.tags.join('-')"), "\"b-a-c\"");
  EXPECT_EQ(eval("self.name.substring(20)"), "error(\"index out of range: 20\")");
  EXPECT_EQ(eval("self.name.find('[A-Z][a-z]+')"), "\"Hello\"");
  EXPECT_EQ(eval("self.name.findAll('[A-Z]')"), "[\"H\", \"W\"]");
  EXPECT_EQ(eval("'a1b22'.findAll('[0-9]+', 1)"), "[\"1\"]");
}

TEST(CelExtensions, Lists) {
  EXPECT_EQ(eval("self.tags.isSorted()"), "false");
  EXPECT_EQ(eval("['a', 'b'].isSorted()"), "true");
  EXPECT_EQ(eval("[1, 2, 3].sum()"), "6");
  EXPECT_EQ(eval("[1.5, 2.0].sum()"), "3.5");
  EXPECT_EQ(eval("self.tags.min()"), "\"a\"");
  EXPECT_EQ(eval("self.tags.max()"), "\"c\"");
  EXPECT_EQ(eval("self.tags.indexOf('a')"), "1");
  EXPECT_EQ(eval("[].max()"), "error(\"max(list) argument must not be empty\")");
}

TEST(CelExtensions, TypedFieldsAndMacros) {
  EXPECT_EQ(eval("self.ports.all(p, p.port > 0)"), "true");
  EXPECT_EQ(eval("self.ports.map(p, p.port).sum()"), "523");
  EXPECT_EQ(eval("self.ports.filter(p, p.port > 100).size()"), "1");
  EXPECT_EQ(eval("self.labels.all(k, self.labels[k].size() < 10)"), "true");
  EXPECT_EQ(eval("self.replicas <= 3 && has(self.name)"), "true");
  // Element types flow into macro variables and indexing.
  EXPECT_NE(compileError("self.ports.all(p, p.nope > 0)").find("undefined field 'nope'"),
            std::string::npos);
  EXPECT_NE(compileError("self.ports[0].nope").find("undefined field 'nope'"), std::string::npos);
  EXPECT_NE(compileError("self.replicas + 'a'")
                .find("found no matching overload for '_+_' applied to '(int, string)'"),
            std::string::npos);
  EXPECT_NE(compileError("self.name.indexOf(1)")
                .find("found no matching overload for 'indexOf' applied to 'string.(int)'"),
            std::string::npos);
  EXPECT_NE(compileError("self.tags.map(t, t + 1)").find("no matching overload"),
            std::string::npos);
}

TEST(CelExtensions, OptionalTypes) {
  EXPECT_EQ(eval("optional.of(1).hasValue()"), "true");
  EXPECT_EQ(eval("optional.none().hasValue()"), "false");
  EXPECT_EQ(eval("optional.of(self.replicas).value() + 1"), "4");
  EXPECT_EQ(eval("optional.none().orValue(7)"), "7");
  EXPECT_EQ(eval("optional.none().or(optional.of('x')).value()"), "\"x\"");
  EXPECT_EQ(eval("optional.ofNonZeroValue('').hasValue()"), "false");
  EXPECT_EQ(eval("optional.none().value()"), "error(\"optional.none() dereference\")");
  EXPECT_EQ(eval("optional.of(1) == optional.of(1)"), "true");
  EXPECT_NE(compileError("optional.of(self.name).value() + 1").find("no matching overload"),
            std::string::npos);
  EXPECT_NE(compileError("self.replicas.hasValue()").find("no matching overload"),
            std::string::npos);
}

TEST(CelExtensions, NotDeclaredWithoutTheLibraries) {
  Env env;
  env.variables["x"] = Type::of(K::kString);
  auto compiled = compile("x.lowerAscii()", env);
  EXPECT_TRUE(std::holds_alternative<CompileError>(compiled));
}

TEST(CelExtensionsProperty, RandomCallsNeverCrash) {
  static const char* kNames[] = {"charAt",  "indexOf",  "lastIndexOf", "lowerAscii", "upperAscii",
                                 "replace", "split",    "substring",   "trim",       "join",
                                 "reverse", "isSorted", "sum",         "min",        "max",
                                 "find",    "findAll"};
  std::mt19937 rng(4242);
  auto randomValue = [&](int depth, auto& self) -> Value {
    switch (rng() % (depth > 1 ? 5 : 6)) {
      case 0:
        return Value::integer(static_cast<int64_t>(rng() % 41) - 20);
      case 1: {
        std::string s;
        static const char kChars[] = "ab, é\t()[*+?\\";
        for (size_t i = rng() % 8; i > 0; --i) s += kChars[rng() % (sizeof kChars - 1)];
        return Value::string(s);
      }
      case 2:
        return Value::dbl(static_cast<double>(rng() % 100) / 7);
      case 3:
        return Value::boolean(rng() % 2);
      case 4:
        return Value();
      default: {
        ValueList items;
        for (size_t i = rng() % 4; i > 0; --i) items.push_back(self(depth + 1, self));
        return Value::list(std::move(items));
      }
    }
  };
  for (int i = 0; i < 20000; ++i) {
    std::vector<Value> args;
    for (size_t n = 1 + rng() % 4; n > 0; --n) args.push_back(randomValue(0, randomValue));
    auto v = detail::callExtensionFunction(kNames[rng() % std::size(kNames)], args);
    ASSERT_TRUE(v.has_value());
    (void)v->debugString();
  }
}

TEST(CelExtensionsProperty, RandomTypedExpressionsNeverCrash) {
  // Token soup over the typed environment and the extension functions: compiling never
  // crashes, and whatever compiles evaluates to a value or an error value.
  static const char* kTokens[] = {
      "self",    ".",          "replicas", "name", "tags",     "labels", "ports", "port",
      "(",       ")",          "[",        "]",    ",",        "0",      "1",     "'a'",
      "+",       "<",          "==",       "&&",   "!",        "?",      ":",     "all",
      "map",     "filter",     "exists",   "p",    "size",     "has",    "join",  "split",
      "indexOf", "substring",  "sum",      "min",  "isSorted", "find",   "trim",  "charAt",
      "replace", "lowerAscii", "in",       "-1",   "2.5",      "{",      "}",     "oldSelf"};
  std::mt19937 rng(777);
  Activation act{{"self", selfValue()}};
  int compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string expr;
    for (size_t n = 1 + rng() % 12; n > 0; --n) {
      expr += kTokens[rng() % std::size(kTokens)];
      if (rng() % 3 == 0) expr += " ";
    }
    auto c = compile(expr, typedEnv());
    if (auto* p = std::get_if<std::shared_ptr<const Program>>(&c)) {
      ++compiled;
      (void)evaluate(**p, act, 10000).debugString();
    }
  }
  EXPECT_GT(compiled, 100);  // the soup does reach the evaluator
}

}  // namespace
}  // namespace berth::cel
