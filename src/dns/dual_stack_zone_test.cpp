// A dual-stack Service in the cluster zone: A for its IPv4 ClusterIP and AAAA for its IPv6 one
// (both from spec.clusterIPs), a PTR for each; a headless Service answers AAAA from its IPv6
// EndpointSlice and A from its IPv4 one.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "dns/zone.h"

namespace berth::dns {
namespace {

client::ObjectPtr obj(std::string_view text) {
  return std::make_shared<const boost::json::value>(boost::json::parse(text));
}

Message ask(const ZoneData& z, const std::string& name, uint16_t qtype) {
  Message reply;
  z.answer({name, qtype, kClassIN}, reply);
  return reply;
}

TEST(DnsDualStack, AAndAaaaFromBothClusterIPs) {
  auto z = ZoneData::build({},
                           {obj(R"({"metadata":{"name":"web","namespace":"default"},
               "spec":{"clusterIP":"10.96.0.30","clusterIPs":["10.96.0.30","fd00:10:96::1e"],
                       "ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"RequireDualStack",
                       "ports":[{"name":"http","port":80,"protocol":"TCP"}]}})"),
                            obj(R"({"metadata":{"name":"db","namespace":"default"},
               "spec":{"clusterIP":"None","clusterIPs":["None"],"ipFamilies":["IPv4","IPv6"],
                       "ports":[{"port":5432}]}})")},
                           {obj(R"({"metadata":{"name":"db-v4","namespace":"default",
                           "labels":{"kubernetes.io/service-name":"db"}},
               "addressType":"IPv4","ports":[{"port":5432}],
               "endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true}}]})"),
                            obj(R"({"metadata":{"name":"db-v6","namespace":"default",
                           "labels":{"kubernetes.io/service-name":"db"}},
               "addressType":"IPv6","ports":[{"port":5432}],
               "endpoints":[{"addresses":["fd00:10:244::5"],"conditions":{"ready":true}}]})")},
                           1);
  auto a = ask(*z, "web.default.svc.cluster.local", type::kA);
  ASSERT_EQ(a.answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv4>(a.answers[0].data), (Ipv4{10, 96, 0, 30}));
  auto aaaa = ask(*z, "web.default.svc.cluster.local", type::kAAAA);
  ASSERT_EQ(aaaa.answers.size(), 1u);
  EXPECT_EQ(aaaa.answers[0].rtype, type::kAAAA);
  EXPECT_EQ(aaaa.answers[0].data, *addressData("fd00:10:96::1e"));
  auto ptr = ask(*z, reverseName(*addressData("fd00:10:96::1e")), type::kPTR);
  ASSERT_EQ(ptr.answers.size(), 1u);
  EXPECT_EQ(std::get<NameData>(ptr.answers[0].data).name, "web.default.svc.cluster.local");

  auto db6 = ask(*z, "db.default.svc.cluster.local", type::kAAAA);
  ASSERT_EQ(db6.answers.size(), 1u);
  EXPECT_EQ(db6.answers[0].data, *addressData("fd00:10:244::5"));
  auto db4 = ask(*z, "db.default.svc.cluster.local", type::kA);
  ASSERT_EQ(db4.answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv4>(db4.answers[0].data), (Ipv4{10, 244, 0, 5}));
}

}  // namespace
}  // namespace berth::dns
