// The libraries of CRD validation rules beyond strings and lists: the optional syntax, type
// values, timestamps and durations, and Kubernetes' quantity, URL, IP and CIDR libraries, with
// random calls on random values that never crash.
#include "cel/k8s_types.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <random>

#include "cel/cel.h"

namespace berth::cel {
namespace {

using K = Type::K;

Env ruleEnv(bool libraries = true) {
  Env env;
  env.extensionLibraries = libraries;
  auto fields = std::make_shared<std::map<std::string, Type>>();
  (*fields)["name"] = Type::of(K::kString);
  (*fields)["replicas"] = Type::of(K::kInt);
  (*fields)["spare"] = Type::of(K::kInt);
  (*fields)["labels"] = Type::mapOf(Type::of(K::kString));
  (*fields)["tags"] = Type::listOf(Type::of(K::kString));
  auto inner = std::make_shared<std::map<std::string, Type>>();
  (*inner)["port"] = Type::of(K::kInt);
  (*fields)["nested"] = Type{K::kObject, "object", inner, nullptr};
  env.variables["self"] = Type{K::kObject, "object", fields, nullptr};
  env.variables["x"] = Type::of(K::kDyn);
  return env;
}

std::string eval(const std::string& expr, bool libraries = true) {
  static const boost::json::value self = boost::json::parse(R"({
    "name": "web", "replicas": 3, "labels": {"app": "web"}, "tags": ["a", "b"],
    "nested": {"port": 80}})");
  auto compiled = compile(expr, ruleEnv(libraries));
  if (auto* err = std::get_if<CompileError>(&compiled)) return "COMPILE: " + err->message;
  Activation act{{"self", Value::fromJson(self)}, {"x", Value::integer(1)}};
  Value v = evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act);
  return v.debugString();
}

TEST(CelOptionalSyntax, FieldSelectionAndIndexing) {
  EXPECT_EQ(eval("self.?name"), "optional.of(\"web\")");
  EXPECT_EQ(eval("self.?name.orValue('x')"), "\"web\"");
  EXPECT_EQ(eval("self.?spare.orValue(8080)"), "8080");  // declared, absent in the object
  EXPECT_EQ(eval("self.labels.?missing.orValue('d')"), "\"d\"");
  EXPECT_EQ(eval("self.?nested.?port.orValue(0)"), "80");
  EXPECT_EQ(eval("self.?nested.port.orValue(0)"), "80");  // chaining: .port on an optional
  EXPECT_EQ(eval("self.labels[?'app'].hasValue()"), "true");
  EXPECT_EQ(eval("self.labels[?'nope'].hasValue()"), "false");
  EXPECT_EQ(eval("self.tags[?1].value()"), "\"b\"");
  EXPECT_EQ(eval("self.tags[?5].orValue('none')"), "\"none\"");
  EXPECT_EQ(eval("self.labels[?'nope'].value()"), "error(\"optional.none() dereference\")");
  EXPECT_EQ(eval("optional.none().?a.hasValue()"), "false");
  EXPECT_EQ(eval("optional.of(self.labels)[?'app'].value()"), "\"web\"");
  EXPECT_EQ(eval("self.?nope"),
            "COMPILE: ERROR: <input>:1:5: undefined field 'nope'\n"
            " | self.?nope\n | ....^");
  // Without the libraries (matchConditions) the syntax parses but does not check.
  EXPECT_EQ(eval("x.?a", false).rfind("COMPILE:", 0), 0u);
}

TEST(CelTypes, TypeValuesCompare) {
  EXPECT_EQ(eval("type(self.name) == string"), "true");
  EXPECT_EQ(eval("type(self.replicas) == int"), "true");
  EXPECT_EQ(eval("type(self.tags) == list && type(self.labels) == map"), "true");
  EXPECT_EQ(eval("type(self) == map"), "true");
  EXPECT_EQ(eval("type(1.5) == double && type(null) == null_type && type(int) == type"), "true");
  EXPECT_EQ(eval("type(x) == string"), "false");
  EXPECT_EQ(eval("type(duration('1s'))"), "google.protobuf.Duration");
  EXPECT_EQ(eval("type(quantity('1Gi')) == type(quantity('1'))"), "true");
  EXPECT_EQ(eval("type(x) == int", false).rfind("COMPILE:", 0), 0u);
}

TEST(CelTime, TimestampsParseFormatAndAccessors) {
  EXPECT_EQ(eval("string(timestamp('2024-02-29T13:45:30.250Z'))"), "\"2024-02-29T13:45:30.25Z\"");
  EXPECT_EQ(eval("string(timestamp('2024-03-01T01:00:00+02:00'))"), "\"2024-02-29T23:00:00Z\"");
  EXPECT_EQ(eval("int(timestamp('1970-01-02T00:00:00Z'))"), "86400");
  EXPECT_EQ(eval("string(timestamp(0))"), "\"1970-01-01T00:00:00Z\"");
  auto t = std::string("timestamp('2024-02-29T13:45:30.250Z')");
  EXPECT_EQ(eval(t + ".getFullYear()"), "2024");
  EXPECT_EQ(eval(t + ".getMonth()"), "1");  // zero-based
  EXPECT_EQ(eval(t + ".getDate()"), "29");
  EXPECT_EQ(eval(t + ".getDayOfMonth()"), "28");
  EXPECT_EQ(eval(t + ".getDayOfYear()"), "59");
  EXPECT_EQ(eval(t + ".getDayOfWeek()"), "4");  // a Thursday
  EXPECT_EQ(eval(t + ".getHours()"), "13");
  EXPECT_EQ(eval(t + ".getHours('+02:00')"), "15");
  EXPECT_EQ(eval(t + ".getDate('-14:00')"), "28");
  EXPECT_EQ(eval(t + ".getMinutes()"), "45");
  EXPECT_EQ(eval(t + ".getSeconds()"), "30");
  EXPECT_EQ(eval(t + ".getMilliseconds()"), "250");
  EXPECT_EQ(eval("timestamp('2024-02-30T00:00:00Z')"),
            "error(\"type conversion error from 'string' to 'google.protobuf.Timestamp'\")");
  EXPECT_EQ(eval("timestamp('1999-12-31T23:59:59Z') < timestamp('2000-01-01T00:00:00Z')"), "true");
}

TEST(CelTime, DurationsAndArithmetic) {
  EXPECT_EQ(eval("string(duration('1h30m'))"), "\"5400s\"");
  EXPECT_EQ(eval("string(duration('-1.5s'))"), "\"-1.5s\"");
  EXPECT_EQ(eval("duration('90m').getHours()"), "1");
  EXPECT_EQ(eval("duration('90m').getMinutes()"), "90");
  EXPECT_EQ(eval("duration('1500ms').getSeconds()"), "1");
  EXPECT_EQ(eval("duration('2us').getMilliseconds()"), "0");
  EXPECT_EQ(eval("duration('1h') > duration('59m')"), "true");
  EXPECT_EQ(eval("duration('1h') == duration('60m')"), "true");
  EXPECT_EQ(eval("string(timestamp('2024-01-01T00:00:00Z') + duration('36h'))"),
            "\"2024-01-02T12:00:00Z\"");
  EXPECT_EQ(eval("string(timestamp('2024-01-01T00:00:00Z') - duration('1ns'))"),
            "\"2023-12-31T23:59:59.999999999Z\"");
  EXPECT_EQ(eval("timestamp('2024-01-02T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == "
                 "duration('24h')"),
            "true");
  EXPECT_EQ(eval("string(duration('1m') + duration('1s'))"), "\"61s\"");
  EXPECT_EQ(eval("timestamp('9999-12-31T23:59:59Z') + duration('1s')"),
            "error(\"timestamp overflow\")");
  EXPECT_EQ(eval("duration('1x')"),
            "error(\"type conversion error from 'string' to 'google.protobuf.Duration'\")");
  EXPECT_EQ(eval("timestamp('2024-01-01T00:00:00Z') + 1").rfind("COMPILE:", 0), 0u);
  EXPECT_EQ(eval("duration('1s') < 5").rfind("COMPILE:", 0), 0u);
}

TEST(CelQuantity, ParseCompareAndArithmetic) {
  EXPECT_EQ(eval("quantity('1Gi') == quantity('1024Mi')"), "true");
  EXPECT_EQ(eval("quantity('1.5') == quantity('1500m')"), "true");
  EXPECT_EQ(eval("quantity('1k').compareTo(quantity('1Ki'))"), "-1");
  EXPECT_EQ(eval("quantity('2G').isGreaterThan(quantity('1Gi'))"), "true");
  EXPECT_EQ(eval("quantity('100m').isLessThan(quantity('1'))"), "true");
  EXPECT_EQ(eval("quantity('1e3').asInteger()"), "1000");
  EXPECT_EQ(eval("quantity('1.5').asInteger()"), "error(\"cannot convert value to integer\")");
  EXPECT_EQ(eval("quantity('1.5').isInteger()"), "false");
  EXPECT_EQ(eval("quantity('2.0').isInteger()"), "true");
  EXPECT_EQ(eval("quantity('500m').asApproximateFloat()"), "0.5");
  EXPECT_EQ(eval("quantity('-3').sign()"), "-1");
  EXPECT_EQ(eval("quantity('1Ki').add(quantity('24')).asInteger()"), "1048");
  EXPECT_EQ(eval("quantity('1').sub(2).sign()"), "-1");
  EXPECT_EQ(eval("quantity('1').add(1) == quantity('2')"), "true");
  EXPECT_EQ(eval("isQuantity('10Mi') && !isQuantity('10 Mi') && !isQuantity('')"), "true");
  EXPECT_EQ(eval("quantity('abc')").rfind("error(\"quantities must match", 0), 0u);
  EXPECT_EQ(eval("quantity('1').add('2')").rfind("COMPILE:", 0), 0u);
}

TEST(CelUrl, Accessors) {
  auto u = std::string("url('https://user@example.com:8443/a%20b/c?x=1&y=2&x=3')");
  EXPECT_EQ(eval(u + ".getScheme()"), "\"https\"");
  EXPECT_EQ(eval(u + ".getHost()"), "\"example.com:8443\"");
  EXPECT_EQ(eval(u + ".getHostname()"), "\"example.com\"");
  EXPECT_EQ(eval(u + ".getPort()"), "\"8443\"");
  EXPECT_EQ(eval(u + ".getEscapedPath()"), "\"/a%20b/c\"");
  EXPECT_EQ(eval(u + ".getQuery()"), "{\"x\": [\"1\", \"3\"], \"y\": [\"2\"]}");
  EXPECT_EQ(eval("url('http://[::1]:80/').getHostname()"), "\"::1\"");
  EXPECT_EQ(eval("url('http://[::1]/').getPort()"), "\"\"");
  EXPECT_EQ(eval("url('/just/a/path').getHost()"), "\"\"");
  EXPECT_EQ(eval("isURL('https://example.com') && !isURL('example.com') && !isURL('')"), "true");
  EXPECT_EQ(eval("url('nope')"),
            "error(\"URL parse error during conversion from string: parse \\\"nope\\\": invalid "
            "URI for request\")");
}

TEST(CelIp, AddressesAndPrefixes) {
  EXPECT_EQ(eval("ip('10.0.0.1').family()"), "4");
  EXPECT_EQ(eval("ip('2001:db8::1').family()"), "6");
  EXPECT_EQ(eval("string(ip('2001:DB8:0:0::1'))"), "\"2001:db8::1\"");
  EXPECT_EQ(eval("ip('127.0.0.1').isLoopback() && ip('::1').isLoopback()"), "true");
  EXPECT_EQ(eval("ip('0.0.0.0').isUnspecified() && ip('::').isUnspecified()"), "true");
  EXPECT_EQ(eval("ip('169.254.1.1').isLinkLocalUnicast() && ip('fe80::1').isLinkLocalUnicast()"),
            "true");
  EXPECT_EQ(eval("ip('224.0.0.5').isLinkLocalMulticast() && ip('ff02::1').isLinkLocalMulticast()"),
            "true");
  EXPECT_EQ(eval("ip('10.1.2.3').isGlobalUnicast() && !ip('255.255.255.255').isGlobalUnicast()"),
            "true");
  EXPECT_EQ(eval("ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:DB8::1')"), "true");
  EXPECT_EQ(eval("isIP('1.2.3.4') && !isIP('1.2.3') && !isIP('fe80::1%eth0')"), "true");
  EXPECT_EQ(eval("ip('::ffff:1.2.3.4')"),
            "error(\"IP Address \\\"::ffff:1.2.3.4\\\" parse error during conversion from string: "
            "IPv4-mapped IPv6 address is not allowed\")");
  EXPECT_EQ(eval("ip('10.0.0.1') == ip('10.0.0.1') && ip('10.0.0.1') != ip('10.0.0.2')"), "true");
  EXPECT_EQ(eval("cidr('10.0.0.0/8').containsIP(ip('10.2.3.4'))"), "true");
  EXPECT_EQ(eval("cidr('10.0.0.0/8').containsIP('11.0.0.1')"), "false");
  EXPECT_EQ(eval("cidr('10.0.0.0/8').containsIP('::1')"), "false");
  EXPECT_EQ(eval("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')"), "true");
  EXPECT_EQ(eval("cidr('10.1.0.0/16').containsCIDR(cidr('10.0.0.0/8'))"), "false");
  EXPECT_EQ(eval("cidr('10.1.2.3/16').prefixLength()"), "16");
  EXPECT_EQ(eval("string(cidr('10.1.2.3/16').masked())"), "\"10.1.0.0/16\"");
  EXPECT_EQ(eval("string(cidr('10.1.2.3/16').ip())"), "\"10.1.2.3\"");
  EXPECT_EQ(eval("cidr('2001:db8::/32').ip().family()"), "6");
  EXPECT_EQ(eval("isCIDR('10.0.0.0/33') || isCIDR('10.0.0.0')"), "false");
  EXPECT_EQ(eval("ip('1.2.3.4').containsIP('1.2.3.4')").rfind("COMPILE:", 0), 0u);
}

TEST(CelLibraries, RandomCallsNeverCrash) {
  static const char* kValues[] = {"'1Gi'",
                                  "'10.0.0.1'",
                                  "'::1'",
                                  "'10.0.0.0/8'",
                                  "'x'",
                                  "''",
                                  "'https://a.b:1/p?q=1'",
                                  "'2024-01-01T00:00:00Z'",
                                  "'1h'",
                                  "'-0.5'",
                                  "'1e999'",
                                  "'%zz'",
                                  "'[::1'",
                                  "'fe80::/10'",
                                  "'99999999999999999999999999999999999999999Ei'"};
  static const char* kCtors[] = {"quantity",   "url",   "ip",   "cidr",   "timestamp", "duration",
                                 "isQuantity", "isURL", "isIP", "isCIDR", "string",    "type"};
  static const char* kMembers[] = {"sign()",
                                   "isInteger()",
                                   "asInteger()",
                                   "asApproximateFloat()",
                                   "getScheme()",
                                   "getHost()",
                                   "getHostname()",
                                   "getPort()",
                                   "getEscapedPath()",
                                   "getQuery()",
                                   "family()",
                                   "isLoopback()",
                                   "isGlobalUnicast()",
                                   "prefixLength()",
                                   "masked()",
                                   "ip()",
                                   "getFullYear()",
                                   "getHours('+01:00')",
                                   "getDayOfWeek('bad')",
                                   "getMilliseconds()",
                                   "orValue(1)"};
  std::mt19937 rng(7);
  Activation act{{"x", Value::integer(1)}};
  for (int i = 0; i < 3000; ++i) {
    std::string v = kValues[rng() % std::size(kValues)];
    std::string src = std::string("dyn(") + kCtors[rng() % std::size(kCtors)] + "(" + v + "))." +
                      kMembers[rng() % std::size(kMembers)];
    if (rng() % 3 == 0)
      src = std::string(kCtors[rng() % 4]) + "(" + v + ") == " + kCtors[rng() % 4] + "(" +
            kValues[rng() % std::size(kValues)] + ")";
    if (rng() % 4 == 0)
      src =
          std::string("cidr(") + v + ").containsCIDR(" + kValues[rng() % std::size(kValues)] + ")";
    auto compiled = compile(src, ruleEnv());
    if (auto* p = std::get_if<std::shared_ptr<const Program>>(&compiled)) {
      (void)evaluate(**p, act, 10000).debugString();
    }
  }
}

}  // namespace
}  // namespace berth::cel
