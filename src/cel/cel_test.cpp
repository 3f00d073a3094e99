#include "cel/cel.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace berth::cel {
namespace {

Env testEnv() {
  Env env;
  env.variables["object"] = Type::of(Type::K::kDyn);
  env.variables["oldObject"] = Type::of(Type::K::kDyn);
  auto fields = std::make_shared<std::map<std::string, Type>>();
  (*fields)["operation"] = Type::of(Type::K::kString);
  (*fields)["dryRun"] = Type::of(Type::K::kBool);
  env.variables["request"] = Type{Type::K::kObject, "kubernetes.AdmissionRequest", fields};
  env.unsupported["authorizer"] = "authorizer is not supported";  // Env::unsupported still works
  return env;
}

const boost::json::value& testObject() {
  static const boost::json::value v = boost::json::parse(R"({
    "metadata": {"name": "web", "labels": {"app": "nginx", "skip": "true"}},
    "spec": {"replicas": 3, "ratio": 0.5, "ports": [80, 443], "empty": [], "paused": false,
             "containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox"}]}
  })");
  return v;
}

const boost::json::value& testRequest() {
  static const boost::json::value v =
      boost::json::parse(R"({"operation": "CREATE", "dryRun": false})");
  return v;
}

Value run(const std::string& expr, uint64_t limit = kDefaultCostLimit) {
  auto compiled = compile(expr, testEnv());
  if (auto* err = std::get_if<CompileError>(&compiled)) {
    return Value::error("COMPILE: " + err->message);
  }
  Activation act{{"object", Value::fromJson(testObject())},
                 {"oldObject", Value()},
                 {"request", Value::fromJson(testRequest())}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act, limit);
}

std::string show(const std::string& expr) { return run(expr).debugString(); }

std::string compileError(const std::string& expr) {
  auto compiled = compile(expr, testEnv());
  auto* err = std::get_if<CompileError>(&compiled);
  return err ? err->message : "";
}

TEST(Cel, Literals) {
  EXPECT_EQ(show("null"), "null");
  EXPECT_EQ(show("true"), "true");
  EXPECT_EQ(show("42"), "42");
  EXPECT_EQ(show("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(show("0x1F"), "31");
  EXPECT_EQ(show("7u"), "7u");
  EXPECT_EQ(show("1.5"), "1.5");
  EXPECT_EQ(show("1e3"), "1000.0");
  EXPECT_EQ(show(".5"), "0.5");
  EXPECT_EQ(show("'a\\tb'"), "\"a\\tb\"");
  EXPECT_EQ(show("\"\\u00e9\""), "\"\xc3\xa9\"");
  EXPECT_EQ(show("r'a\\nb'"), "\"a\\\\nb\"");
  EXPECT_EQ(show("b'\\xff'"), "b\"\\xff\"");
  EXPECT_EQ(show("'''multi\nline'''"), "\"multi\\nline\"");
  EXPECT_EQ(show("[['a'], ['b', 'c']]"), "[[\"a\"], [\"b\", \"c\"]]");
  EXPECT_EQ(show("{'a': 1, 'b': 2,}"), "{\"a\": 1, \"b\": 2}");
}

TEST(Cel, SelectionIndexingAndHas) {
  EXPECT_EQ(show("object.metadata.labels['app']"), "\"nginx\"");
  EXPECT_EQ(show("object.metadata.labels.app == 'nginx'"), "true");
  EXPECT_EQ(show("object.spec.ports[1]"), "443");
  EXPECT_EQ(show("object.spec.containers[0].image"), "\"nginx:1\"");
  EXPECT_EQ(show("has(object.metadata.labels)"), "true");
  EXPECT_EQ(show("has(object.metadata.annotations)"), "false");
  EXPECT_EQ(show("object.metadata.annotations"), "error(\"no such key: annotations\")");
  EXPECT_EQ(show("object.metadata.labels['team']"), "error(\"no such key: team\")");
  EXPECT_EQ(show("object.spec.ports[2]"), "error(\"index out of bounds: 2\")");
  EXPECT_EQ(show("request.operation"), "\"CREATE\"");
  EXPECT_EQ(show("oldObject == null"), "true");
  EXPECT_EQ(show("{'a': {'b': 1}}.a.b"), "1");
  EXPECT_EQ(show("{'a': 1}[object]"),
            "error(\"no matching overload for '_[_]' applied to '(map, map)'\")");
  EXPECT_EQ(show("{1: 'one'}[1u] + {true: 'yes'}[true]"), "\"oneyes\"");
}

TEST(Cel, Operators) {
  EXPECT_EQ(show("1 + 2 * 3 - 4 / 2 % 3"), "5");
  EXPECT_EQ(show("'ab' + 'cd'"), "\"abcd\"");
  EXPECT_EQ(show("[1] + [2]"), "[1, 2]");
  EXPECT_EQ(show("1 == 1.0 && 1u == 1 && 2 > 1.5"), "true");
  EXPECT_EQ(show("'a' < 'b' && 'b' <= 'b' && !(3 >= 4)"), "true");
  EXPECT_EQ(show("2 in [1, 2] && 'app' in object.metadata.labels && !('x' in {'y': 1})"), "true");
  EXPECT_EQ(show("object.spec.replicas > 2 ? 'big' : 'small'"), "\"big\"");
  EXPECT_EQ(show("9223372036854775807 + 1"), "error(\"integer overflow\")");
  EXPECT_EQ(show("1 / 0"), "error(\"division by zero\")");
  EXPECT_EQ(show("1 % 0"), "error(\"modulus by zero\")");
  EXPECT_EQ(show("0u - 1u"), "error(\"unsigned integer overflow\")");
  EXPECT_EQ(show("1.0 / 0.0 > 1.0"), "true");
  EXPECT_EQ(show("-(-3)"), "3");
  EXPECT_EQ(show("[1, 2] == [1, 2] && {'a': 1} == {'a': 1} && [1] != [2]"), "true");
}

TEST(Cel, ErrorsAreAbsorbedCommutatively) {
  EXPECT_EQ(show("object.missing == 1 && false"), "false");
  EXPECT_EQ(show("false && object.missing == 1"), "false");
  EXPECT_EQ(show("object.missing == 1 || true"), "true");
  EXPECT_EQ(show("true || object.missing == 1"), "true");
  EXPECT_EQ(show("object.missing == 1 && true"), "error(\"no such key: missing\")");
  EXPECT_EQ(show("false || object.missing == 1"), "error(\"no such key: missing\")");
  EXPECT_EQ(show("dyn(1) && false"), "false");
  EXPECT_EQ(show("dyn(1) && true"),
            "error(\"no matching overload for '_&&_' applied to '(int, bool)'\")");
  EXPECT_EQ(show("dyn(1) + 'a'"),
            "error(\"no matching overload for '_+_' applied to '(int, string)'\")");
  EXPECT_EQ(show("dyn('a') < 1"),
            "error(\"no matching overload for '_<_' applied to '(string, int)'\")");
}

TEST(Cel, FunctionsAndConversions) {
  EXPECT_EQ(show("size('h\xc3\xa9') == 2 && size(b'ab') == 2 && [1,2].size() == 2"), "true");
  EXPECT_EQ(show("size(object.metadata.labels)"), "2");
  EXPECT_EQ(show("object.metadata.name.startsWith('we') && 'abc'.endsWith('bc')"), "true");
  EXPECT_EQ(show("'abc'.contains('b') && !'abc'.contains('d')"), "true");
  EXPECT_EQ(show("'nginx:1'.matches('^ngi.x:[0-9]+$') && 'abc'.matches('b')"), "true");
  EXPECT_EQ(show("matches('abc', 'z')"), "false");
  EXPECT_EQ(show("int('42') + int(2.9) + int(3u)"), "47");
  EXPECT_EQ(show("int('x')"), "error(\"cannot convert \\\"x\\\" to int\")");
  EXPECT_EQ(show("int(1e19)"), "error(\"range error converting 1e+19 to int\")");
  EXPECT_EQ(show("string(1) + string(1.5) + string(true) + string(b'x')"), "\"11.5truex\"");
  EXPECT_EQ(show("double('2.5') + double(1)"), "3.5");
  EXPECT_EQ(show("uint(5) == 5u && bool('true')"), "true");
}

TEST(Cel, Macros) {
  EXPECT_EQ(show("object.spec.ports.exists(p, p == 443)"), "true");
  EXPECT_EQ(show("object.spec.ports.all(p, p > 100)"), "false");
  EXPECT_EQ(show("object.spec.ports.exists_one(p, p > 100)"), "true");
  EXPECT_EQ(show("object.spec.ports.map(p, p * 2)"), "[160, 886]");
  EXPECT_EQ(show("object.spec.ports.map(p, p > 100, p + 1)"), "[444]");
  EXPECT_EQ(show("object.spec.ports.filter(p, p < 100)"), "[80]");
  EXPECT_EQ(show("object.metadata.labels.exists(k, k == 'skip')"), "true");
  EXPECT_EQ(show("object.metadata.labels.all(k, object.metadata.labels[k] != '')"), "true");
  EXPECT_EQ(show("object.spec.containers.all(c, c.image.contains(':'))"), "false");
  EXPECT_EQ(show("object.spec.empty.all(x, false) && !object.spec.empty.exists(x, true)"), "true");
  // An error in one element is absorbed when another decides.
  EXPECT_EQ(show("[{'a': 1}, {}].exists(m, m.a == 1)"), "true");
  EXPECT_EQ(show("[{}, {'a': 1}].exists(m, m.a == 2)"), "error(\"no such key: a\")");
  EXPECT_EQ(show("[1, 2].map(x, [3, 4].map(y, x * y))"), "[[3, 4], [6, 8]]");
}

TEST(Cel, CostLimitStopsHostileExpressions) {
  std::string nested = "[0,1,2,3,4,5,6,7,8,9]";
  std::string expr = nested + ".all(a, " + nested + ".all(b, " + nested + ".all(c, " + nested +
                     ".all(d, " + nested + ".all(e, " + nested + ".all(f, true))))))";
  EXPECT_EQ(show(expr), "error(\"operation cancelled: actual cost limit exceeded\")");
  // The budget is never absorbed by a deciding operand.
  EXPECT_EQ(run("false && " + expr).debugString(), "false");  // short circuit: never evaluated
  EXPECT_EQ(run(expr + " || true").debugString(),
            "error(\"operation cancelled: actual cost limit exceeded\")");
  EXPECT_EQ(run("1 + 1 == 2", 3).debugString(),
            "error(\"operation cancelled: actual cost limit exceeded\")");
}

TEST(Cel, CompileErrors) {
  EXPECT_EQ(compileError("1 +"),
            "ERROR: <input>:1:4: Syntax error: mismatched input '<EOF>' expecting expression\n"
            " | 1 +\n | ...^");
  EXPECT_EQ(compileError("foo == 1"),
            "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo == 1\n"
            " | ^");
  EXPECT_EQ(compileError("object.x.bar(1)"),
            "ERROR: <input>:1:9: found no matching overload for 'bar' applied to '(dyn, int)'\n"
            " | object.x.bar(1)\n | ........^");
  EXPECT_EQ(compileError("1 + 'a'").substr(0, 83),
            "ERROR: <input>:1:3: found no matching overload for '_+_' applied to '(int, string)'");
  EXPECT_NE(compileError("request.nope").find("undefined field 'nope'"), std::string::npos);
  EXPECT_NE(compileError("authorizer.group('').resource('pods').check('get').allowed()")
                .find("authorizer is not supported"),
            std::string::npos);
  EXPECT_NE(compileError("'a'.matches('(')").find("invalid regular expression"), std::string::npos);
  EXPECT_NE(compileError("[1].exists(1, true)").find("argument must be a simple name"),
            std::string::npos);
  EXPECT_NE(compileError("has(object)").find("invalid argument to has() macro"), std::string::npos);
  EXPECT_NE(compileError("'unterminated").find("unterminated string"), std::string::npos);
  EXPECT_NE(compileError("9223372036854775808").find("integer out of range"), std::string::npos);
  EXPECT_NE(compileError("if").find("reserved identifier"), std::string::npos);
  EXPECT_NE(compileError(std::string(300, '(') + "1" + std::string(300, ')'))
                .find("recursion limit exceeded"),
            std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 600; ++i) chain += " + 1";
  EXPECT_NE(compileError(chain).find("recursion limit exceeded"), std::string::npos);
}

TEST(Cel, OutputTypes) {
  auto typeOf = [](const std::string& expr) {
    auto c = compile(expr, testEnv());
    return std::get<std::shared_ptr<const Program>>(c)->outputType.name();
  };
  EXPECT_EQ(typeOf("object.metadata.name == 'x'"), "bool");
  EXPECT_EQ(typeOf("object.spec.paused"), "dyn");
  EXPECT_EQ(typeOf("request.operation"), "string");
  EXPECT_EQ(typeOf("request.dryRun"), "bool");
  EXPECT_EQ(typeOf("has(object.spec)"), "bool");
  EXPECT_EQ(typeOf("size(object.spec.ports)"), "int");
  EXPECT_EQ(typeOf("[1].exists(x, x > 0)"), "bool");
}

}  // namespace
}  // namespace berth::cel
