#include "cel/authz.h"

#include <gtest/gtest.h>

#include "cel/admission_env.h"
#include "cel/cel.h"

namespace berth::cel {
namespace {

// A fake authorizer: allows `list` of anything and everything for the service account
// ns1/robot; records each question.
struct FakeAuthorizer {
  std::vector<AuthzCheck> asked;
  AuthzCallback callback() {
    return [this](const AuthzCheck& c) {
      asked.push_back(c);
      if (c.verb == "fail") return AuthzDecision{false, "", "webhook authorizer unreachable"};
      bool allowed = c.verb == "list" || (c.saNamespace == "ns1" && c.saName == "robot");
      return AuthzDecision{allowed, allowed ? "fake allows" : "fake denies", ""};
    };
  }
};

std::string compileError(const std::string& expr) {
  auto compiled = compile(expr, admissionEnv());
  auto* err = std::get_if<CompileError>(&compiled);
  return err ? err->message : "";
}

Value run(const std::string& expr, const AuthzCallback* cb, uint64_t limit = kDefaultCostLimit,
          uint64_t* used = nullptr) {
  auto compiled = compile(expr, admissionEnv());
  if (auto* err = std::get_if<CompileError>(&compiled)) return Value::error(err->message);
  Activation act{{"authorizer", authorizerValue()}};
  return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act, limit, used, cb);
}

TEST(CelAuthz, TypesCheck) {
  auto typeOf = [](const std::string& expr) {
    auto c = compile(expr, admissionEnv());
    if (auto* err = std::get_if<CompileError>(&c)) return err->message;
    return std::get<std::shared_ptr<const Program>>(c)->outputType.name();
  };
  EXPECT_EQ(typeOf("authorizer.group('').resource('pods').check('list').allowed()"), "bool");
  EXPECT_EQ(typeOf("authorizer.group('apps').resource('deployments').namespace('a').name('b')"
                   ".subresource('scale').check('update').reason()"),
            "string");
  EXPECT_EQ(typeOf("authorizer.path('/healthz').check('get').errored()"), "bool");
  EXPECT_EQ(typeOf("authorizer.serviceAccount('ns', 'sa').group('').resource('pods')"
                   ".check('get').error()"),
            "string");
  EXPECT_EQ(typeOf("authorizer.group('').resource('pods').check('get')"),
            "kubernetes.authorization.Decision");
  // The compiled form is accepted as a matchCondition.
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const Program>>(
      compileMatchCondition("!authorizer.group('').resource('configmaps').check('delete')"
                            ".allowed()")));
  EXPECT_EQ(std::get<std::string>(
                compileMatchCondition("authorizer.group('').resource('pods').check('get')")),
            "must evaluate to bool");
}

TEST(CelAuthz, MisuseIsACompileError) {
  EXPECT_NE(compileError("authorizer.group('').check('get').allowed()")
                .find("found no matching overload for 'check' applied to "
                      "'kubernetes.authorization.GroupCheck.(string)'"),
            std::string::npos);
  EXPECT_NE(compileError("authorizer.group(1).resource('pods').check('get').allowed()")
                .find("found no matching overload for 'group' applied to "
                      "'kubernetes.authorization.Authorizer.(int)'"),
            std::string::npos);
  EXPECT_NE(compileError("authorizer.path('/x').check('get').allowed").find("undefined field"),
            std::string::npos);
  EXPECT_NE(compileError("authorizer.frobnicate()").find("undeclared reference to 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(compileError("authorizer.group('').resource('pods').check('get').allowed() == 'yes'")
                .find("found no matching overload for '_==_'"),
            std::string::npos);
}

TEST(CelAuthz, EvaluatesThroughTheCallback) {
  FakeAuthorizer fake;
  auto cb = fake.callback();
  EXPECT_EQ(run("authorizer.group('').resource('pods').check('list').allowed()", &cb).debugString(),
            "true");
  EXPECT_EQ(run("authorizer.group('apps').resource('deployments').namespace('ns').name('web')"
                ".subresource('scale').check('update').allowed()",
                &cb)
                .debugString(),
            "false");
  ASSERT_EQ(fake.asked.size(), 2u);
  const AuthzCheck& c = fake.asked[1];
  EXPECT_TRUE(c.resourceRequest);
  EXPECT_EQ(c.group, "apps");
  EXPECT_EQ(c.resource, "deployments");
  EXPECT_EQ(c.ns, "ns");
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(c.subresource, "scale");
  EXPECT_EQ(c.verb, "update");
  EXPECT_TRUE(c.saName.empty());

  EXPECT_EQ(run("authorizer.path('/metrics').check('get').reason()", &cb).debugString(),
            "\"fake denies\"");
  EXPECT_FALSE(fake.asked.back().resourceRequest);
  EXPECT_EQ(fake.asked.back().path, "/metrics");

  EXPECT_EQ(run("authorizer.serviceAccount('ns1', 'robot').group('').resource('secrets')"
                ".check('delete').allowed()",
                &cb)
                .debugString(),
            "true");
  EXPECT_EQ(fake.asked.back().saNamespace, "ns1");
  EXPECT_EQ(fake.asked.back().saName, "robot");

  EXPECT_EQ(run("authorizer.path('/x').check('fail').errored()", &cb).debugString(), "true");
  EXPECT_EQ(run("authorizer.path('/x').check('fail').error()", &cb).debugString(),
            "\"webhook authorizer unreachable\"");
  EXPECT_EQ(run("authorizer.path('/x').check('get').errored()", &cb).debugString(), "false");
}

TEST(CelAuthz, SelectorsReachTheCallback) {
  FakeAuthorizer fake;
  auto cb = fake.callback();
  EXPECT_EQ(run("authorizer.group('').resource('pods').namespace('ns')"
                ".fieldSelector('spec.nodeName=n1').labelSelector('app=web').check('list')"
                ".allowed()",
                &cb)
                .debugString(),
            "true");
  ASSERT_EQ(fake.asked.size(), 1u);
  EXPECT_EQ(fake.asked[0].fieldSelector, "spec.nodeName=n1");
  EXPECT_EQ(fake.asked[0].labelSelector, "app=web");
  EXPECT_EQ(fake.asked[0].ns, "ns");
  // Only resource checks have them.
  EXPECT_NE(compileError("authorizer.path('/x').fieldSelector('a=b').check('get').allowed()"), "");
  EXPECT_NE(compileError("authorizer.group('').resource('pods').labelSelector(1).check('get')"
                         ".allowed()"),
            "");
}

TEST(CelAuthz, RequestResource) {
  FakeAuthorizer fake;
  auto cb = fake.callback();
  EXPECT_NE(compileError("authorizer.requestResource.nope").find("undefined field 'nope'"),
            std::string::npos);
  AuthzCheck request;
  request.group = "apps";
  request.resource = "deployments";
  request.subresource = "scale";
  request.ns = "prod";
  request.name = "web";
  auto runWith = [&](const std::string& expr) {
    auto compiled = compile(expr, admissionEnv());
    if (auto* err = std::get_if<CompileError>(&compiled)) return Value::error(err->message);
    Activation act{{"authorizer", authorizerValue(&request)}};
    return evaluate(*std::get<std::shared_ptr<const Program>>(compiled), act, kDefaultCostLimit,
                    nullptr, &cb);
  };
  EXPECT_EQ(runWith("authorizer.requestResource.check('update').allowed()").debugString(), "false");
  ASSERT_EQ(fake.asked.size(), 1u);
  EXPECT_EQ(fake.asked[0].group, "apps");
  EXPECT_EQ(fake.asked[0].resource, "deployments");
  EXPECT_EQ(fake.asked[0].subresource, "scale");
  EXPECT_EQ(fake.asked[0].ns, "prod");
  EXPECT_EQ(fake.asked[0].name, "web");
  EXPECT_EQ(fake.asked[0].verb, "update");
  // The request's resource, asked for a service account; name() narrows it further.
  EXPECT_EQ(runWith("authorizer.serviceAccount('ns1', 'robot').requestResource.name('other')"
                    ".check('update').allowed()")
                .debugString(),
            "true");
  EXPECT_EQ(fake.asked[1].saName, "robot");
  EXPECT_EQ(fake.asked[1].name, "other");
  EXPECT_EQ(fake.asked[1].resource, "deployments");
  // Without a request (not in admission) selecting it is an error value, not a crash.
  EXPECT_TRUE(run("authorizer.requestResource.check('get').allowed()", &cb).isError());
}

TEST(CelAuthz, WithoutCallbackACheckIsAnError) {
  Value v = run("authorizer.group('').resource('pods').check('get').allowed()", nullptr);
  ASSERT_TRUE(v.isError());
  EXPECT_EQ(v.asString(), "authorizer not available");
  // ...which a deciding operand absorbs, as any CEL error.
  EXPECT_EQ(run("false && authorizer.group('').resource('pods').check('get').allowed()", nullptr)
                .debugString(),
            "false");
}

TEST(CelAuthz, ChecksCostBudget) {
  FakeAuthorizer fake;
  auto cb = fake.callback();
  uint64_t used = 0;
  run("authorizer.path('/x').check('get').allowed()", &cb, kDefaultCostLimit, &used);
  EXPECT_GE(used, kAuthzCheckCost);
  // Budget for fewer checks than the expression makes: cancelled, and the authorizer is not
  // asked past the limit.
  std::string many = "authorizer.path('/0').check('get').allowed()";
  for (int i = 1; i < 40; ++i)
    many += " || authorizer.path('/" + std::to_string(i) + "').check('get').allowed()";
  fake.asked.clear();
  Value v = run(many, &cb);
  ASSERT_TRUE(v.isError());
  EXPECT_EQ(v.asString(), "operation cancelled: actual cost limit exceeded");
  EXPECT_LT(fake.asked.size(), 40u);
  EXPECT_EQ(fake.asked.size(), kDefaultCostLimit / kAuthzCheckCost);
}

}  // namespace
}  // namespace berth::cel
