// Service ipFamilyPolicy / ipFamilies: the defaults that need no cluster knowledge and the
// static validation of families against clusterIPs (upstream's messages). The cluster's ranges
// are checked by the registry (apiserver/service/dual_stack_test.cpp).
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

json::object service(const std::string& spec) {
  return parse(
      (R"({"metadata":{"name":"web","namespace":"default"},"spec":)" + spec + "}").c_str());
}

TEST(ServiceFamilies, DefaultsFollowTheGivenClusterIPsAndFamilies) {
  const auto& rt = resource("", "v1", "services");
  auto v6 = service(R"({"clusterIP":"fd00:10:96::5","ports":[{"port":80}]})");
  EXPECT_VALID(create(rt, v6));
  EXPECT_EQ(at(v6, "spec.ipFamilies"), json::value(json::array{"IPv6"}));
  EXPECT_EQ(at(v6, "spec.ipFamilyPolicy"), json::value("SingleStack"));
  auto two = service(R"({"ipFamilies":["IPv6","IPv4"],"ports":[{"port":80}]})");
  EXPECT_VALID(create(rt, two));
  EXPECT_EQ(at(two, "spec.ipFamilyPolicy"), json::value("RequireDualStack"));
  auto pair = service(R"({"clusterIPs":["10.96.0.5","fd00:10:96::5"],"ports":[{"port":80}]})");
  EXPECT_VALID(create(rt, pair));
  EXPECT_EQ(at(pair, "spec.clusterIP"), json::value("10.96.0.5"));
  EXPECT_EQ(at(pair, "spec.ipFamilies"), json::value(json::array{"IPv4", "IPv6"}));
  EXPECT_EQ(at(pair, "spec.ipFamilyPolicy"), json::value("RequireDualStack"));
  auto prefer = service(R"({"ipFamilyPolicy":"PreferDualStack","ports":[{"port":80}]})");
  EXPECT_VALID(create(rt, prefer));
  // Which family is primary (IPv4 or IPv6) only the storage knows: it fills ipFamilies.
  EXPECT_TRUE(at(prefer, "spec.ipFamilies").is_null());
}

TEST(ServiceFamilies, ValidationMessages) {
  const auto& rt = resource("", "v1", "services");
  auto badPolicy = service(R"({"ipFamilyPolicy":"Both","ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, badPolicy), "spec.ipFamilyPolicy", "FieldValueNotSupported",
               "Unsupported value: \"Both\": supported values: \"PreferDualStack\", "
               "\"RequireDualStack\", \"SingleStack\"");
  auto badFamily = service(R"({"ipFamilies":["IPv5"],"ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, badFamily), "spec.ipFamilies[0]", "FieldValueNotSupported",
               "Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"");
  auto dup = service(R"({"ipFamilies":["IPv4","IPv4"],"ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, dup), "spec.ipFamilies[1]", "FieldValueDuplicate",
               "Duplicate value: \"IPv4\"");
  auto single = service(
      R"({"ipFamilyPolicy":"SingleStack","ipFamilies":["IPv4","IPv6"],"ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, single), "spec.ipFamilyPolicy", "FieldValueInvalid",
               "Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' "
               "when multiple 'ipFamilies' are specified");
  auto mismatch =
      service(R"({"ipFamilies":["IPv6"],"clusterIPs":["10.96.0.5"],"ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, mismatch), "spec.clusterIPs[0]", "FieldValueInvalid",
               "Invalid value: \"10.96.0.5\": expected an IPv6 value as indicated by "
               "`ipFamilies[0]`");
  auto sameFamily = service(R"({"clusterIPs":["10.96.0.5","10.96.0.6"],"ports":[{"port":80}]})");
  EXPECT_CAUSE(create(rt, sameFamily), "spec.clusterIPs", "FieldValueInvalid",
               "Invalid value: [\"10.96.0.5\",\"10.96.0.6\"]: may specify no more than one IP "
               "for each IP family");
  // The primary family may not change, the secondary may come and go.
  auto old = service(R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})");
  ASSERT_TRUE(create(rt, old).empty());
  auto flipped = service(
      R"({"clusterIP":"10.96.0.5","ipFamilies":["IPv6","IPv4"],"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]})");
  EXPECT_TRUE(hasCause(update(rt, flipped, old), "spec.ipFamilies[0]", "FieldValueInvalid"));
  auto upgraded = service(
      R"({"clusterIP":"10.96.0.5","ipFamilyPolicy":"PreferDualStack","ports":[{"port":80}]})");
  EXPECT_VALID(update(rt, upgraded, old));
  // A downgrade that leaves the dual-stack fields as they were keeps the primary only.
  auto dual = service(
      R"({"clusterIPs":["10.96.0.5","fd00:10:96::5"],"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]})");
  ASSERT_TRUE(create(rt, dual).empty());
  auto down = service(
      R"({"clusterIP":"10.96.0.5","clusterIPs":["10.96.0.5","fd00:10:96::5"],"ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"SingleStack","ports":[{"port":80}]})");
  EXPECT_VALID(update(rt, down, dual));
  EXPECT_EQ(at(down, "spec.clusterIPs"), json::value(json::array{"10.96.0.5"}));
  EXPECT_EQ(at(down, "spec.ipFamilies"), json::value(json::array{"IPv4"}));
}

}  // namespace
}  // namespace berth::core::kinds
