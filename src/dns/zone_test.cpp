#include "dns/zone.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::dns {
namespace {

client::ObjectPtr obj(std::string_view text) {
  return std::make_shared<const boost::json::value>(boost::json::parse(text));
}

std::shared_ptr<const ZoneData> testZone() {
  std::vector<client::ObjectPtr> services = {
      obj(R"({"metadata":{"name":"foo","namespace":"bar"},
              "spec":{"clusterIP":"10.96.0.20","clusterIPs":["10.96.0.20"],
                      "ports":[{"name":"http","port":80,"protocol":"TCP"},
                               {"name":"dns","port":53,"protocol":"UDP"}]}})"),
      obj(R"({"metadata":{"name":"db","namespace":"bar"},
              "spec":{"clusterIP":"None","ports":[{"name":"pg","port":5432}]}})"),
      obj(R"({"metadata":{"name":"ext","namespace":"bar"},
              "spec":{"type":"ExternalName","externalName":"db.example.org"}})"),
      obj(R"({"metadata":{"name":"v6","namespace":"bar"},
              "spec":{"clusterIPs":["fd00::10"]}})"),
  };
  std::vector<client::ObjectPtr> slices = {
      obj(R"({"metadata":{"name":"db-abc","namespace":"bar",
                          "labels":{"kubernetes.io/service-name":"db"}},
              "addressType":"IPv4",
              "ports":[{"name":"pg","port":5432,"protocol":"TCP"}],
              "endpoints":[{"addresses":["10.244.0.5"],"hostname":"db-0",
                            "conditions":{"ready":true}},
                           {"addresses":["10.244.1.6"],"conditions":{}},
                           {"addresses":["10.244.1.7"],"conditions":{"ready":false}}]})"),
      obj(R"({"metadata":{"name":"foo-xyz","namespace":"bar",
                          "labels":{"kubernetes.io/service-name":"foo"}},
              "addressType":"IPv4","ports":[{"name":"http","port":8080}],
              "endpoints":[{"addresses":["10.244.0.9"]}]})"),
  };
  return ZoneData::build({}, services, slices, 7);
}

Message ask(const ZoneData& z, const std::string& name, uint16_t qtype, bool* ours = nullptr) {
  Message reply;
  bool answered = z.answer({name, qtype, kClassIN}, reply);
  if (ours) *ours = answered;
  return reply;
}

std::vector<std::string> addresses(const Message& m) {
  std::vector<std::string> out;
  for (const auto& rr : m.answers)
    if (const auto* a = std::get_if<Ipv4>(&rr.data))
      out.push_back(std::to_string((*a)[0]) + "." + std::to_string((*a)[1]) + "." +
                    std::to_string((*a)[2]) + "." + std::to_string((*a)[3]));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DnsZone, ServiceAIsTheClusterIpCaseInsensitively) {
  auto z = testZone();
  auto m = ask(*z, "Foo.Bar.svc.cluster.local", type::kA);
  EXPECT_EQ(m.header.rcode, rcode::kNoError);
  EXPECT_TRUE(m.header.aa);
  EXPECT_EQ(addresses(m), std::vector<std::string>{"10.96.0.20"});
  EXPECT_EQ(m.answers[0].name, "Foo.Bar.svc.cluster.local");
  EXPECT_EQ(m.answers[0].ttl, 5u);
}

TEST(DnsZone, HeadlessServiceAnswersReadyEndpoints) {
  auto z = testZone();
  auto m = ask(*z, "db.bar.svc.cluster.local", type::kA);
  EXPECT_EQ(addresses(m), (std::vector<std::string>{"10.244.0.5", "10.244.1.6"}));
  EXPECT_EQ(addresses(ask(*z, "db-0.db.bar.svc.cluster.local", type::kA)),
            std::vector<std::string>{"10.244.0.5"});
  EXPECT_EQ(addresses(ask(*z, "10-244-1-6.db.bar.svc.cluster.local", type::kA)),
            std::vector<std::string>{"10.244.1.6"});
  // The not-ready endpoint has no name.
  EXPECT_EQ(ask(*z, "10-244-1-7.db.bar.svc.cluster.local", type::kA).header.rcode,
            rcode::kNXDomain);
}

TEST(DnsZone, SrvForNamedPorts) {
  auto z = testZone();
  auto m = ask(*z, "_http._tcp.foo.bar.svc.cluster.local", type::kSRV);
  ASSERT_EQ(m.answers.size(), 1u);
  const auto& srv = std::get<SrvData>(m.answers[0].data);
  EXPECT_EQ(srv.port, 80);
  EXPECT_EQ(srv.target, "foo.bar.svc.cluster.local");
  ASSERT_EQ(m.additional.size(), 1u);  // the target's address rides along
  EXPECT_EQ(m.additional[0].rtype, type::kA);
  EXPECT_EQ(ask(*z, "_dns._udp.foo.bar.svc.cluster.local", type::kSRV).answers.size(), 1u);
  EXPECT_EQ(ask(*z, "_dns._tcp.foo.bar.svc.cluster.local", type::kSRV).header.rcode,
            rcode::kNXDomain);
  // Headless: one record per ready endpoint, aimed at the endpoint's own name and port.
  auto h = ask(*z, "_pg._tcp.db.bar.svc.cluster.local", type::kSRV);
  ASSERT_EQ(h.answers.size(), 2u);
  std::vector<std::string> targets;
  for (const auto& rr : h.answers) {
    targets.push_back(std::get<SrvData>(rr.data).target);
    EXPECT_EQ(std::get<SrvData>(rr.data).port, 5432);
    EXPECT_EQ(std::get<SrvData>(rr.data).weight, 50);
  }
  std::sort(targets.begin(), targets.end());
  EXPECT_EQ(targets, (std::vector<std::string>{"10-244-1-6.db.bar.svc.cluster.local",
                                               "db-0.db.bar.svc.cluster.local"}));
  EXPECT_EQ(h.additional.size(), 2u);
}

TEST(DnsZone, PtrForClusterIpsAndEndpoints) {
  auto z = testZone();
  auto m = ask(*z, "20.0.96.10.in-addr.arpa", type::kPTR);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<NameData>(m.answers[0].data).name, "foo.bar.svc.cluster.local");
  auto e = ask(*z, "5.0.244.10.in-addr.arpa", type::kPTR);
  ASSERT_EQ(e.answers.size(), 1u);
  EXPECT_EQ(std::get<NameData>(e.answers[0].data).name, "db-0.db.bar.svc.cluster.local");
  auto v6 = ask(*z, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
                type::kPTR);
  ASSERT_EQ(v6.answers.size(), 1u);
  EXPECT_EQ(std::get<NameData>(v6.answers[0].data).name, "v6.bar.svc.cluster.local");
  bool ours = true;
  ask(*z, "1.2.0.192.in-addr.arpa", type::kPTR, &ours);
  EXPECT_FALSE(ours);  // unknown reverse names fall through to the upstream resolvers
}

TEST(DnsZone, AaaaForIpv6ServicesAndNodataForIpv4Ones) {
  auto z = testZone();
  auto m = ask(*z, "v6.bar.svc.cluster.local", type::kAAAA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].rtype, type::kAAAA);
  auto nodata = ask(*z, "foo.bar.svc.cluster.local", type::kAAAA);
  EXPECT_EQ(nodata.header.rcode, rcode::kNoError);
  EXPECT_TRUE(nodata.answers.empty());
  ASSERT_EQ(nodata.authority.size(), 1u);
  EXPECT_EQ(nodata.authority[0].rtype, type::kSOA);
}

TEST(DnsZone, ExternalNameIsACname) {
  auto z = testZone();
  auto m = ask(*z, "ext.bar.svc.cluster.local", type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].rtype, type::kCNAME);
  EXPECT_EQ(std::get<NameData>(m.answers[0].data).name, "db.example.org");
}

TEST(DnsZone, PodRecordsComeFromTheName) {
  auto z = testZone();
  EXPECT_EQ(addresses(ask(*z, "10-244-3-4.anyns.pod.cluster.local", type::kA)),
            std::vector<std::string>{"10.244.3.4"});
  EXPECT_EQ(ask(*z, "10-244-3.anyns.pod.cluster.local", type::kA).header.rcode,
            rcode::kNXDomain);
  EXPECT_EQ(ask(*z, "999-1-1-1.anyns.pod.cluster.local", type::kA).header.rcode,
            rcode::kNXDomain);
}

TEST(DnsZone, UnknownNamesAreNxdomainWithSoaAndEmptyNonTerminalsNodata) {
  auto z = testZone();
  auto m = ask(*z, "nope.bar.svc.cluster.local", type::kA);
  EXPECT_EQ(m.header.rcode, rcode::kNXDomain);
  EXPECT_TRUE(m.header.aa);
  ASSERT_EQ(m.authority.size(), 1u);
  const auto& soa = std::get<SoaData>(m.authority[0].data);
  EXPECT_EQ(m.authority[0].name, "cluster.local");
  EXPECT_EQ(soa.mname, "ns.dns.cluster.local");
  EXPECT_EQ(soa.serial, 7u);
  EXPECT_EQ(soa.minimum, 5u);
  // bar.svc.cluster.local exists (it has services below it) but has no records.
  auto ent = ask(*z, "bar.svc.cluster.local", type::kA);
  EXPECT_EQ(ent.header.rcode, rcode::kNoError);
  EXPECT_TRUE(ent.answers.empty());
  EXPECT_EQ(ent.authority.size(), 1u);
  // The apex answers SOA and NS, the NS with its address.
  EXPECT_EQ(ask(*z, "cluster.local", type::kSOA).answers.size(), 1u);
  auto ns = ask(*z, "cluster.local", type::kNS);
  ASSERT_EQ(ns.answers.size(), 1u);
  EXPECT_EQ(ns.additional.size(), 1u);
  bool ours = true;
  ask(*z, "example.org", type::kA, &ours);
  EXPECT_FALSE(ours);
  ask(*z, "notcluster.local", type::kA, &ours);
  EXPECT_FALSE(ours);
}

}  // namespace
}  // namespace berth::dns
