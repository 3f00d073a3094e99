// Incremental zone updates: a change of one Service touches only its names, leaves the other
// shards shared with the last snapshot and the last snapshot as it was, and ends in the same
// zone a full build of the same objects gives.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <deque>
#include <set>

#include "dns/zone.h"

namespace berth::dns {
namespace {

namespace json = boost::json;

json::object service(const std::string& ns, const std::string& name, const std::string& ip) {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":")" + ns +
                     R"("},"spec":{"clusterIP":")" + ip +
                     R"(","ports":[{"name":"http","port":80,"protocol":"TCP"}]}})")
      .as_object();
}

json::object slice(const std::string& ns, const std::string& svc,
                   const std::vector<std::string>& ips) {
  json::array eps;
  for (const auto& ip : ips)
    eps.push_back(json::object{{"addresses", json::array{json::string(ip)}}});
  return json::object{{"metadata",
                       {{"name", svc + "-x"},
                        {"namespace", ns},
                        {"labels", {{"kubernetes.io/service-name", svc}}}}},
                      {"addressType", "IPv4"},
                      {"ports", json::array{{{"name", "http"}, {"port", 8080}}}},
                      {"endpoints", std::move(eps)}};
}

// One string per record, in the records' order.
std::vector<std::string> renderEach(const std::vector<ResourceRecord>& records) {
  std::vector<std::string> all;
  for (const auto& rr : records) {
    std::string out = std::to_string(rr.rtype) + ":";
    if (const auto* a = std::get_if<Ipv4>(&rr.data))
      for (auto b : *a) out += std::to_string(b) + ".";
    if (const auto* n = std::get_if<NameData>(&rr.data)) out += n->name;
    if (const auto* s = std::get_if<SrvData>(&rr.data))
      out += s->target + "/" + std::to_string(s->port) + "/" + std::to_string(s->weight);
    if (const auto* soa = std::get_if<SoaData>(&rr.data)) out += std::to_string(soa->serial);
    all.push_back(std::move(out));
  }
  return all;
}

std::string render(const std::vector<ResourceRecord>& records) {
  std::string out;
  for (const auto& r : renderEach(records)) out += r + " ";
  return out;
}

// The names whose records differ between two snapshots.
std::set<std::string> changedNames(const ZoneData& a, const ZoneData& b) {
  auto da = a.dump(), db = b.dump();
  std::set<std::string> out;
  for (const auto& [name, recs] : da)
    if (!db.count(name) || render(db[name]) != render(recs)) out.insert(name);
  for (const auto& [name, recs] : db)
    if (!da.count(name)) out.insert(name);
  return out;
}

class ZoneWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 50; ++i) {
      std::string name = "svc" + std::to_string(i);
      writer.setService(
          "bar/" + name,
          &services.emplace_back(service("bar", name, "10.96.1." + std::to_string(i))), {});
    }
    slices.push_back(slice("bar", "svc7", {"10.244.0.7", "10.244.1.7"}));
    writer.setService("bar/svc7", &services[7], {&slices.back()});
    before = writer.publish(1);
  }
  std::deque<json::object> services, slices;
  ZoneWriter writer{ZoneOptions{}};
  std::shared_ptr<const ZoneData> before;
};

TEST_F(ZoneWriterTest, AnUpdateOfOneServiceChangesOnlyItsRecords) {
  auto oldDump = before->dump();
  // svc7: a new ClusterIP and one endpoint replaced by another.
  services[7] = service("bar", "svc7", "10.96.2.7");
  slices.back() = slice("bar", "svc7", {"10.244.0.7", "10.244.2.9"});
  writer.setService("bar/svc7", &services[7], {&slices.back()});
  auto after = writer.publish(1);

  std::set<std::string> want = {
      "svc7.bar.svc.cluster.local",  // A moves to 10.96.2.7
      "7.1.96.10.in-addr.arpa",
      "7.2.96.10.in-addr.arpa",  // old PTR gone, new PTR
      "10-244-1-7.svc7.bar.svc.cluster.local",
      "7.1.244.10.in-addr.arpa",  // old endpoint gone
      "10-244-2-9.svc7.bar.svc.cluster.local",
      "9.2.244.10.in-addr.arpa",  // new endpoint
  };
  EXPECT_EQ(changedNames(*before, *after), want);
  // The unchanged endpoint, the SRV names and every other Service are untouched, and only the
  // shards of the changed names were copied.
  EXPECT_GE(after->sharedShards(*before), ZoneData::kShards - want.size());
  EXPECT_LT(after->sharedShards(*before), ZoneData::kShards);
  // The published snapshot is immutable: the old one still answers the old way.
  EXPECT_EQ(before->dump().size(), oldDump.size());
  Message reply;
  ASSERT_TRUE(before->answer({"svc7.bar.svc.cluster.local", type::kA, kClassIN}, reply));
  ASSERT_EQ(reply.answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv4>(reply.answers[0].data), (Ipv4{10, 96, 1, 7}));
  Message now;
  ASSERT_TRUE(after->answer({"svc7.bar.svc.cluster.local", type::kA, kClassIN}, now));
  ASSERT_EQ(now.answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv4>(now.answers[0].data), (Ipv4{10, 96, 2, 7}));
}

TEST_F(ZoneWriterTest, AnUnchangedServiceCopiesNoShard) {
  writer.setService("bar/svc3", &services[3], {});
  auto after = writer.publish(1);
  // With the same serial not even the apex (its SOA) is rewritten.
  EXPECT_EQ(after->sharedShards(*before), ZoneData::kShards);
  // A new serial rewrites the apex only.
  auto next = writer.publish(2);
  EXPECT_EQ(next->sharedShards(*after), ZoneData::kShards - 1);
  EXPECT_EQ(changedNames(*after, *next), std::set<std::string>{"cluster.local"});
  EXPECT_TRUE(changedNames(*before, *after).empty());
}

TEST_F(ZoneWriterTest, EmptyNonTerminalsLiveAsLongAsAServiceBelowThem) {
  auto q = [](const ZoneData& z, const std::string& name) {
    Message r;
    z.answer({name, type::kA, kClassIN}, r);
    return r.header.rcode;
  };
  services.push_back(service("solo", "only", "10.96.3.1"));
  writer.setService("solo/only", &services.back(), {});
  auto with = writer.publish(2);
  EXPECT_EQ(q(*with, "solo.svc.cluster.local"), rcode::kNoError);  // NODATA: it exists
  writer.setService("solo/only", nullptr, {});
  auto without = writer.publish(3);
  EXPECT_EQ(q(*without, "solo.svc.cluster.local"), rcode::kNXDomain);
  EXPECT_EQ(q(*without, "only.solo.svc.cluster.local"), rcode::kNXDomain);
  // bar keeps its namespace name while any of its 50 Services is left.
  for (int i = 0; i < 49; ++i) writer.setService("bar/svc" + std::to_string(i), nullptr, {});
  auto one = writer.publish(4);
  EXPECT_EQ(q(*one, "bar.svc.cluster.local"), rcode::kNoError);
  EXPECT_EQ(q(*one, "svc49.bar.svc.cluster.local"), rcode::kNoError);
  writer.setService("bar/svc49", nullptr, {});
  auto none = writer.publish(5);
  EXPECT_EQ(q(*none, "bar.svc.cluster.local"), rcode::kNXDomain);
  EXPECT_EQ(q(*none, "svc.cluster.local"), rcode::kNXDomain);
  EXPECT_EQ(q(*none, "cluster.local"), rcode::kNoError);  // the apex stays
}

TEST_F(ZoneWriterTest, IncrementalUpdatesEndInTheZoneAFullBuildGives) {
  // Changes of every kind, then the same objects built from scratch.
  services[2] = service("bar", "svc2", "10.96.4.2");
  writer.setService("bar/svc2", &services[2], {});
  writer.setService("bar/svc5", nullptr, {});
  slices.push_back(slice("bar", "svc9", {"10.244.0.7"}));  // an address svc7 has too: shared PTR
  writer.setService("bar/svc9", &services[9], {&slices.back()});
  writer.publish(6);
  slices[0] = slice("bar", "svc7", {"10.244.3.3"});
  writer.setService("bar/svc7", &services[7], {&slices[0]});
  auto incremental = writer.publish(7);

  std::vector<client::ObjectPtr> svcs, sls;
  for (size_t i = 0; i < services.size(); ++i)
    if (i != 5) svcs.push_back(std::make_shared<const json::value>(services[i]));
  for (const auto& s : slices) sls.push_back(std::make_shared<const json::value>(s));
  auto full = ZoneData::build({}, svcs, sls, 7);
  auto a = incremental->dump(), b = full->dump();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, recs] : b) {
    ASSERT_TRUE(a.count(name)) << name;
    // Owner order may differ on a name two Services share (a PTR): compare as sets.
    auto x = renderEach(recs), y = renderEach(a[name]);
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    EXPECT_EQ(x, y) << name;
  }
  Message ptr;
  ASSERT_TRUE(incremental->answer({"7.0.244.10.in-addr.arpa", type::kPTR, kClassIN}, ptr));
  ASSERT_EQ(ptr.answers.size(), 1u);  // svc7 no longer lists 10.244.0.7; svc9 does
  EXPECT_EQ(std::get<NameData>(ptr.answers[0].data).name, "10-244-0-7.svc9.bar.svc.cluster.local");
}

}  // namespace
}  // namespace berth::dns
