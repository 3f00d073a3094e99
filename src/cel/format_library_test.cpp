// Kubernetes' format library (format.dns1123Label().validate(s), format.named(n)) and cel-go's
// string formatting ("%s".format([x])), plus random format strings that never crash.
#include "cel/format_library.h"

#include <gtest/gtest.h>

#include <random>

#include "cel/cel.h"

namespace berth::cel {
namespace {

std::string eval(const std::string& expr, bool libraries = true) {
  Env env;
  env.extensionLibraries = libraries;
  env.variables["s"] = Type::of(Type::K::kString);
  auto compiled = compile(expr, env);
  if (auto* err = std::get_if<CompileError>(&compiled)) return "COMPILE: " + err->message;
  Activation act{{"s", Value::string("My_Name")}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act).debugString();
}

TEST(CelFormatLibrary, NamedFormats) {
  EXPECT_EQ(eval("format.dns1123Label().validate('my-name')"), "optional.none()");
  EXPECT_EQ(eval("format.dns1123Label().validate(s)"),
            "optional.of([\"a lowercase RFC 1123 label must consist of lower case alphanumeric "
            "characters or '-', and must start and end with an alphanumeric character (e.g. "
            "'my-name',  or '123-abc', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')\"])");
  EXPECT_EQ(eval("format.dns1123Subdomain().validate('apiextensions.k8s.io').hasValue()"), "false");
  EXPECT_EQ(eval("format.dns1035Label().validate('1abc').hasValue()"), "true");
  EXPECT_EQ(eval("format.qualifiedName().validate('apiextensions.k8s.io/v1beta1')"),
            "optional.none()");
  EXPECT_EQ(eval("format.labelValue().validate('-x').hasValue()"), "true");
  // Prefixes may end in '-' (generateName).
  EXPECT_EQ(eval("format.dns1123LabelPrefix().validate('my-label-prefix-')"), "optional.none()");
  EXPECT_EQ(eval("format.dns1123Label().validate('my-label-prefix-').hasValue()"), "true");
  EXPECT_EQ(eval("format.dns1035LabelPrefix().validate('my-prefix-')"), "optional.none()");
  EXPECT_EQ(eval("format.dns1123SubdomainPrefix().validate('sub.prefix-')"), "optional.none()");
  EXPECT_EQ(eval("format.uri().validate('http://example.com')"), "optional.none()");
  EXPECT_EQ(eval("format.uri().validate('example')"),
            "optional.of([\"parse \\\"example\\\": invalid URI for request\"])");
  EXPECT_EQ(eval("format.uri().validate('/absolute/path')"), "optional.none()");
  EXPECT_EQ(eval("format.uuid().validate('123e4567-e89b-12d3-a456-426614174000')"),
            "optional.none()");
  EXPECT_EQ(eval("format.uuid().validate('123e4567')"),
            "optional.of([\"does not match the UUID format\"])");
  EXPECT_EQ(eval("format.byte().validate('aGVsbG8=')"), "optional.none()");
  EXPECT_EQ(eval("format.byte().validate('!!')"), "optional.of([\"invalid base64\"])");
  EXPECT_EQ(eval("format.date().validate('2021-01-01')"), "optional.none()");
  EXPECT_EQ(eval("format.date().validate('2021-02-30')"), "optional.of([\"invalid date\"])");
  EXPECT_EQ(eval("format.datetime().validate('2021-01-01T00:00:00Z')"), "optional.none()");
  EXPECT_EQ(eval("format.datetime().validate('2021-01-01')"),
            "optional.of([\"invalid datetime\"])");
  // The messageExpression idiom.
  EXPECT_EQ(eval("format.dns1123Label().validate('a_b').value().join('\\n').size() > 10"), "true");
}

TEST(CelFormatLibrary, NamedAndTypes) {
  EXPECT_EQ(eval("format.named('dns1123Label').value().validate('x')"), "optional.none()");
  EXPECT_EQ(eval("format.named('nope')"), "optional.none()");
  EXPECT_EQ(eval("format.named('uuid').hasValue()"), "true");
  EXPECT_EQ(eval("type(format.uuid()) == type(format.byte())"), "true");
  EXPECT_EQ(eval("format.nope()"),
            "COMPILE: ERROR: <input>:1:7: undeclared reference to 'nope' (in container 'format')\n"
            " | format.nope()\n"
            " | ......^");
  EXPECT_EQ(eval("format.uuid().validate(1)").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("format.named(1)").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("format.uuid()", false).rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("format.named(dyn('uuid')).hasValue()"), "true");
}

TEST(CelStringFormat, Clauses) {
  EXPECT_EQ(eval("'this is a string: %s\\nand an integer: %d'.format(['str', 42])"),
            "\"this is a string: str\\nand an integer: 42\"");
  EXPECT_EQ(eval("'a double substituted with %%s: %s'.format([64.2])"),
            "\"a double substituted with %s: 64.2\"");
  EXPECT_EQ(eval("'types: %s %s'.format([string, type(1)])"), "\"types: string int\"");
  EXPECT_EQ(eval("'timestamp: %s'.format([timestamp('2023-02-03T23:31:20+00:00')])"),
            "\"timestamp: 2023-02-03T23:31:20Z\"");
  EXPECT_EQ(eval("'duration: %s'.format([duration('1h45m47s')])"), "\"duration: 6347s\"");
  EXPECT_EQ(eval("'%f'.format([3.14])"), "\"3.140000\"");
  EXPECT_EQ(eval("'%.2f'.format([3.14159])"), "\"3.14\"");
  EXPECT_EQ(eval("'%.3f'.format([2])"), "\"2.000\"");
  EXPECT_EQ(eval("'%f %f'.format(['NaN', double('-Infinity')])"), "\"NaN -Infinity\"");
  EXPECT_EQ(eval("'%e'.format([2.71828])"), "\"2.718280e+00\"");
  EXPECT_EQ(eval("'5 in binary: %b'.format([5])"), "\"5 in binary: 101\"");
  EXPECT_EQ(eval("'%x %X %x'.format([26, 26, 'hi'])"), "\"1a 1A 6869\"");
  EXPECT_EQ(eval("'%o'.format([30])"), "\"36\"");
  EXPECT_EQ(eval("'%d %x'.format([-26, -26])"), "\"-26 -1a\"");
  EXPECT_EQ(eval("'%b %b'.format([true, false])"), "\"1 0\"");
  EXPECT_EQ(eval("'%s'.format([[1, 'a', {'b': 'y', 'a': 'x'}]])"),
            "\"[1, \\\"a\\\", {\\\"a\\\":\\\"x\\\", \\\"b\\\":\\\"y\\\"}]\"");
  EXPECT_EQ(eval("'%s %s'.format([null, b'xy'])"), "\"null xy\"");
  EXPECT_EQ(eval("'%d'.format([1.5])"),
            "error(\"decimal clause can only be used on integers, was given double\")");
  EXPECT_EQ(eval("'%s %s'.format([1])"), "error(\"index 1 out of range\")");
  EXPECT_EQ(
      eval("'%q'.format([1])"),
      "error(\"could not parse formatting clause: unrecognized formatting clause \\\"q\\\"\")");
  EXPECT_EQ(eval("'100%'.format([])").rfind("error(", 0), 0u);
  EXPECT_EQ(eval("s.format(1)").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("'%s'.format([s])"), "\"My_Name\"");
}

TEST(CelStringFormatProperty, RandomPatternsNeverCrash) {
  const char* pieces[] = {"%", "s", "d", "f", "e", "b", "x", "X", "o", ".", "2", "%%", "a", "99"};
  const char* args[] = {"1",
                        "-7",
                        "2u",
                        "1.5",
                        "'s'",
                        "b'z'",
                        "true",
                        "null",
                        "[1]",
                        "{'k': 1}",
                        "duration('1s')",
                        "timestamp(0)",
                        "type(1)"};
  std::mt19937 rng(4);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string pattern, list;
    for (int i = 0, n = static_cast<int>(rng() % 8); i < n; ++i) pattern += pieces[rng() % 14];
    for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i)
      list += (i ? ", " : "") + std::string(args[rng() % 13]);
    std::string v = eval("'" + pattern + "'.format([" + list + "])");
    EXPECT_TRUE(v.rfind("\"", 0) == 0 || v.rfind("error(", 0) == 0) << pattern << " " << v;
  }
}

}  // namespace
}  // namespace berth::cel
