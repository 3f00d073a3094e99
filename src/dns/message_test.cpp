#include "dns/message.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::dns {
namespace {

ResourceRecord rr(std::string name, uint16_t t, RData d, uint32_t ttl = 5) {
  return {std::move(name), t, kClassIN, ttl, std::move(d)};
}

Message sample() {
  Message m;
  m.header.id = 0xBEEF;
  m.header.qr = m.header.aa = m.header.rd = m.header.ra = true;
  m.header.rcode = rcode::kNoError;
  m.questions.push_back({"_http._tcp.foo.bar.svc.cluster.local", type::kSRV, kClassIN});
  m.answers.push_back(rr("_http._tcp.foo.bar.svc.cluster.local", type::kSRV,
                         SrvData{0, 100, 80, "foo.bar.svc.cluster.local"}));
  m.answers.push_back(rr("foo.bar.svc.cluster.local", type::kA, Ipv4{10, 96, 0, 20}));
  m.answers.push_back(rr("foo.bar.svc.cluster.local", type::kAAAA,
                         Ipv6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  m.answers.push_back(rr("20.0.96.10.in-addr.arpa", type::kPTR,
                         NameData{"foo.bar.svc.cluster.local"}));
  m.answers.push_back(rr("ext.bar.svc.cluster.local", type::kCNAME, NameData{"example.org"}));
  m.answers.push_back(rr("t.cluster.local", type::kTXT, TxtData{{"hello", "", "world"}}));
  m.answers.push_back(rr("x.cluster.local", 99, RawData{"\x01\x02\x03"}));
  m.authority.push_back(rr("cluster.local", type::kSOA,
                           SoaData{"ns.dns.cluster.local", "hostmaster.cluster.local", 7, 7200,
                                   1800, 86400, 5}));
  m.authority.push_back(rr("cluster.local", type::kNS, NameData{"ns.dns.cluster.local"}));
  m.additional.push_back(rr("ns.dns.cluster.local", type::kA, Ipv4{10, 96, 0, 10}));
  m.edns = Edns{1232, 0, 0, true, std::string("\x00\x0a\x00\x02\xab\xcd", 6)};
  return m;
}

void expectSame(const Message& a, const Message& b) {
  EXPECT_EQ(a.header.id, b.header.id);
  EXPECT_EQ(a.header.qr, b.header.qr);
  EXPECT_EQ(a.header.aa, b.header.aa);
  EXPECT_EQ(a.header.tc, b.header.tc);
  EXPECT_EQ(a.header.rd, b.header.rd);
  EXPECT_EQ(a.header.rcode, b.header.rcode);
  ASSERT_EQ(a.questions.size(), b.questions.size());
  for (size_t i = 0; i < a.questions.size(); ++i) {
    EXPECT_EQ(a.questions[i].name, b.questions[i].name);
    EXPECT_EQ(a.questions[i].qtype, b.questions[i].qtype);
  }
  const std::vector<ResourceRecord>* as[3] = {&a.answers, &a.authority, &a.additional};
  const std::vector<ResourceRecord>* bs[3] = {&b.answers, &b.authority, &b.additional};
  for (int s = 0; s < 3; ++s) {
    ASSERT_EQ(as[s]->size(), bs[s]->size()) << "section " << s;
    for (size_t i = 0; i < as[s]->size(); ++i) {
      const auto &x = (*as[s])[i], &y = (*bs[s])[i];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.rtype, y.rtype);
      EXPECT_EQ(x.ttl, y.ttl);
      EXPECT_EQ(x.data.index(), y.data.index()) << x.name;
      if (auto* s1 = std::get_if<SrvData>(&x.data)) {
        auto& s2 = std::get<SrvData>(y.data);
        EXPECT_EQ(s1->target, s2.target);
        EXPECT_EQ(s1->port, s2.port);
      }
      if (auto* n1 = std::get_if<NameData>(&x.data))
        EXPECT_EQ(n1->name, std::get<NameData>(y.data).name);
      if (auto* t1 = std::get_if<TxtData>(&x.data))
        EXPECT_EQ(t1->strings, std::get<TxtData>(y.data).strings);
      if (auto* a1 = std::get_if<Ipv4>(&x.data)) EXPECT_EQ(*a1, std::get<Ipv4>(y.data));
      if (auto* s1 = std::get_if<SoaData>(&x.data)) {
        auto& s2 = std::get<SoaData>(y.data);
        EXPECT_EQ(s1->mname, s2.mname);
        EXPECT_EQ(s1->rname, s2.rname);
        EXPECT_EQ(s1->minimum, s2.minimum);
      }
    }
  }
  ASSERT_EQ(a.edns.has_value(), b.edns.has_value());
  if (a.edns) {
    EXPECT_EQ(a.edns->udpSize, b.edns->udpSize);
    EXPECT_EQ(a.edns->dnssecOk, b.edns->dnssecOk);
    EXPECT_EQ(a.edns->options, b.edns->options);
  }
}

TEST(DnsMessage, RoundTripsEveryRecordType) {
  Message m = sample();
  auto wire = encode(m);
  ASSERT_TRUE(wire.ok()) << wire.status().message();
  auto back = decode(*wire);
  ASSERT_TRUE(back.ok()) << back.status().message();
  expectSame(m, *back);
}

TEST(DnsMessage, CompressesRepeatedNames) {
  Message m;
  m.questions.push_back({"foo.bar.svc.cluster.local", type::kA, kClassIN});
  for (int i = 0; i < 3; ++i)
    m.answers.push_back(rr("foo.bar.svc.cluster.local", type::kA,
                           Ipv4{10, 0, 0, static_cast<uint8_t>(i)}));
  auto wire = encode(m);
  ASSERT_TRUE(wire.ok());
  // header 12 + question (27 + 4) + 3 answers of pointer(2)+10+4.
  EXPECT_EQ(wire->size(), 12u + 31u + 3u * 16u);
  // Only exact spellings are shared, so a name's case survives: FOO gets its own label and
  // points at "bar.svc.cluster.local".
  m.answers[1].name = "FOO.bar.svc.cluster.local";
  auto wire2 = encode(m);
  ASSERT_TRUE(wire2.ok());
  EXPECT_EQ(wire2->size(), wire->size() + 4);
  auto back = decode(*wire2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->answers[1].name, "FOO.bar.svc.cluster.local");
}

TEST(DnsMessage, RejectsPointerLoopsAndForwardPointers) {
  // Header with one question whose name is a pointer to itself (offset 12).
  std::string self("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",
                   18);
  EXPECT_FALSE(decode(self).ok());
  // Label "a" then a pointer back to it: offsets would repeat forever.
  std::string loop("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01"
                   "a\xc0\x0c\x00\x01\x00\x01",
                   20);
  auto r = decode(loop);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 400);
}

TEST(DnsMessage, RefusesOverlongNamesAndLabels) {
  Message m;
  m.questions.push_back({std::string(64, 'a') + ".local", type::kA, kClassIN});
  EXPECT_FALSE(encode(m).ok());
  std::string longName;
  for (int i = 0; i < 50; ++i) longName += "abcde.";
  longName += "x";
  m.questions[0].name = longName;  // 50*6 + 1 = 301 > 255
  EXPECT_FALSE(encode(m).ok());
}

TEST(DnsMessage, TruncatesToTheUdpLimitAndSetsTc) {
  Message q;
  q.questions.push_back({"big.bar.svc.cluster.local", type::kA, kClassIN});
  Message m = replyTo(q, rcode::kNoError);
  for (int i = 0; i < 100; ++i)
    m.answers.push_back(rr("big.bar.svc.cluster.local", type::kA,
                           Ipv4{10, 244, 0, static_cast<uint8_t>(i)}));
  EXPECT_EQ(maxUdpReply(q), 512u);
  auto wire = encode(m, maxUdpReply(q));
  ASSERT_TRUE(wire.ok());
  EXPECT_LE(wire->size(), 512u);
  auto back = decode(*wire);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->header.tc);
  EXPECT_EQ(back->answers.size(), (512u - 12u - 31u) / 16u);
  // With EDNS0 asking for 4096 (capped at 1232), 60 answers fit and the OPT comes back.
  q.edns = Edns{4096};
  EXPECT_EQ(maxUdpReply(q), 1232u);
  Message m2 = replyTo(q, rcode::kNoError);
  m2.answers.assign(m.answers.begin(), m.answers.begin() + 60);
  auto wire2 = encode(m2, maxUdpReply(q));
  ASSERT_TRUE(wire2.ok());
  auto back2 = decode(*wire2);
  ASSERT_TRUE(back2.ok());
  EXPECT_FALSE(back2->header.tc);
  EXPECT_EQ(back2->answers.size(), 60u);
  ASSERT_TRUE(back2->edns.has_value());
  EXPECT_EQ(back2->edns->udpSize, 1232);
}

TEST(DnsMessage, DroppingOnlyAdditionalRecordsDoesNotSetTc) {
  Message m;
  m.questions.push_back({"s.cluster.local", type::kSRV, kClassIN});
  m.answers.push_back(rr("s.cluster.local", type::kSRV, SrvData{0, 100, 53, "t.cluster.local"}));
  for (int i = 0; i < 60; ++i)
    m.additional.push_back(rr("t.cluster.local", type::kA, Ipv4{10, 0, 0, uint8_t(i)}));
  auto wire = encode(m, 512);
  ASSERT_TRUE(wire.ok());
  auto back = decode(*wire);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->header.tc);
  EXPECT_EQ(back->answers.size(), 1u);
  EXPECT_LT(back->additional.size(), 60u);
}

// Property: random bytes and mutations of valid messages never crash the decoder, and whatever
// decodes re-encodes to something that decodes to the same message.
TEST(DnsMessage, FuzzedPacketsNeverCrashAndDecodedOnesRoundTrip) {
  std::mt19937 rng(20261129);
  auto valid = encode(sample());
  ASSERT_TRUE(valid.ok());
  int decoded = 0;
  for (int iter = 0; iter < 50000; ++iter) {
    std::string p;
    if (iter % 4 == 0) {
      p.resize(rng() % 300);
      for (auto& c : p) c = static_cast<char>(rng());
      if (p.size() >= 12) p[4] = 0, p[5] = 1;  // one question, so names get parsed
    } else {
      p = *valid;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) p[rng() % p.size()] = static_cast<char>(rng());
      if (iter % 7 == 0) p.resize(rng() % p.size());
    }
    auto m = decode(p);
    if (!m.ok()) continue;
    ++decoded;
    auto again = encode(*m);
    if (!again.ok()) continue;  // e.g. a decoded label that is empty after mutation
    auto back = decode(*again);
    ASSERT_TRUE(back.ok()) << back.status().message();
    expectSame(*m, *back);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(decoded, 1000);  // mutations of one byte in a record often stay valid
}

TEST(DnsMessage, ReplySkeletonCopiesIdQuestionAndFlags) {
  Message q;
  q.header.id = 42;
  q.header.rd = true;
  q.questions.push_back({"a.b", type::kAAAA, kClassIN});
  Message r = replyTo(q, rcode::kNXDomain);
  EXPECT_EQ(r.header.id, 42);
  EXPECT_TRUE(r.header.qr);
  EXPECT_TRUE(r.header.rd);
  EXPECT_EQ(r.header.rcode, rcode::kNXDomain);
  EXPECT_EQ(r.questions.size(), 1u);
  EXPECT_FALSE(r.edns.has_value());
  std::string w = "\x12\x34rest";
  EXPECT_EQ(wireId(w), 0x1234);
  setWireId(w, 0xABCD);
  EXPECT_EQ(wireId(w), 0xABCD);
}

}  // namespace
}  // namespace berth::dns
