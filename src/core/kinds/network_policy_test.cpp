#include <gtest/gtest.h>

#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

const ResourceType& policies() { return resource("networking.k8s.io", "v1", "networkpolicies"); }

TEST(NetworkPolicy, DefaultsAsUpstream) {
  auto p = parse(R"({"metadata":{"name":"p","namespace":"demo"},"spec":{
      "podSelector":{},"ingress":[{"ports":[{"port":80}]}]}})");
  EXPECT_VALID(create(policies(), p));
  EXPECT_EQ(at(p, "spec.policyTypes"), json::array{"Ingress"});
  EXPECT_EQ(at(p, "spec.ingress").as_array()[0].at("ports").as_array()[0].at("protocol"), "TCP");

  auto eg = parse(R"({"metadata":{"name":"p","namespace":"demo"},"spec":{"egress":[{}]}})");
  EXPECT_VALID(create(policies(), eg));
  EXPECT_EQ(at(eg, "spec.policyTypes"), (json::array{"Ingress", "Egress"}));
  EXPECT_EQ(at(eg, "spec.podSelector"), json::object{});
}

TEST(NetworkPolicy, ValidationNamesEachField) {
  auto p = parse(R"({"metadata":{"name":"p","namespace":"demo"},"spec":{"podSelector":{},
      "policyTypes":["Ingress","Sideways"],
      "ingress":[{"from":[{},{"ipBlock":{"cidr":"10.0.0.0/8","except":["192.168.0.0/16"]},
                               "podSelector":{}}],
                  "ports":[{"protocol":"ICMP"},{"port":"http","endPort":90},{"endPort":5},
                           {"port":100,"endPort":99},{"port":70000}]}],
      "egress":[{"to":[{"ipBlock":{"cidr":"10.1.2.3"}}]}]}})");
  auto errs = create(policies(), p);
  EXPECT_CAUSE(errs, "spec.policyTypes[1]", "FieldValueNotSupported",
               "Unsupported value: \"Sideways\": supported values: \"Egress\", \"Ingress\"");
  EXPECT_CAUSE(errs, "spec.ingress[0].from[0]", "FieldValueRequired",
               "Required value: must specify a peer");
  EXPECT_CAUSE(errs, "spec.ingress[0].from[1]", "FieldValueForbidden",
               "Forbidden: may not specify both ipBlock and another peer");
  EXPECT_CAUSE(errs, "spec.ingress[0].from[1].ipBlock.except[0]", "FieldValueInvalid",
               "Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`");
  EXPECT_CAUSE(errs, "spec.ingress[0].ports[0].protocol", "FieldValueNotSupported", "");
  EXPECT_CAUSE(errs, "spec.ingress[0].ports[1].endPort", "FieldValueInvalid",
               "Invalid value: 90: may not be specified when `port` is non-numeric");
  EXPECT_CAUSE(errs, "spec.ingress[0].ports[2].endPort", "FieldValueInvalid",
               "Invalid value: 5: may not be specified when `port` is not specified");
  EXPECT_CAUSE(errs, "spec.ingress[0].ports[3].endPort", "FieldValueInvalid",
               "Invalid value: 99: must be greater than or equal to `port`");
  EXPECT_CAUSE(errs, "spec.ingress[0].ports[4].port", "FieldValueInvalid", "");
  EXPECT_CAUSE(errs, "spec.egress[0].to[0].ipBlock.cidr", "FieldValueInvalid", "");
}

}  // namespace
}  // namespace berth::core::kinds
