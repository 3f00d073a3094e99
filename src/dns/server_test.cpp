#include "dns/server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "dns/dns_test_util.h"

namespace berth::dns {
namespace {

using testing::FakeUpstream;
using testing::ipv4Text;
using testing::query;

std::shared_ptr<const ZoneData> zoneWithFoo() {
  auto svc = std::make_shared<const boost::json::value>(boost::json::parse(
      R"({"metadata":{"name":"foo","namespace":"bar"},
          "spec":{"clusterIP":"10.96.0.20","ports":[{"name":"http","port":80}]}})"));
  return ZoneData::build({}, {svc}, {}, 1);
}

// Upstream behaviour by name: "big.example" is too big for UDP (TC set there, the full answer
// over TCP), "silent.example" never answers, anything else is 192.0.2.1.
std::optional<Message> upstreamAnswer(const Message& q, bool tcp) {
  Message r = replyTo(q, rcode::kNoError);
  const auto& name = q.questions.at(0).name;
  if (name == "silent.example") return std::nullopt;
  if (name == "big.example") {
    if (!tcp) {
      r.header.tc = true;
      return r;
    }
    for (int i = 0; i < 100; ++i)
      r.answers.push_back({name, type::kA, kClassIN, 60, Ipv4{198, 51, 100, uint8_t(i)}});
    return r;
  }
  if (name == "missing.example") {
    r.header.rcode = rcode::kNXDomain;
    return r;
  }
  r.answers.push_back({name, type::kA, kClassIN, 60, Ipv4{192, 0, 2, 1}});
  return r;
}

class DnsServerTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> upstreams, std::chrono::milliseconds timeout,
             std::vector<std::string> alsoListen = {}) {
    ForwarderOptions fo;
    fo.upstreams = std::move(upstreams);
    fo.timeout = timeout;
    forwarder_ = std::make_unique<Forwarder>(fo);
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.metricsListen = "127.0.0.1:0";
    so.alsoListen = std::move(alsoListen);
    auto zone = zoneWithFoo();
    server_ = std::make_unique<Server>(so, [zone] { return zone; }, forwarder_.get(), metrics_);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (forwarder_) forwarder_->stop();
  }
  metrics::Registry metrics_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<Server> server_;
};

// A dual-stack node's DNS server also answers on its IPv6 bridge gateway, on the same port.
TEST_F(DnsServerTest, AnswersOnItsSecondAddressToo) {
  start({}, std::chrono::milliseconds(300), {"::1"});
  for (bool tcp : {false, true}) {
    for (const char* host : {"127.0.0.1", "::1"}) {
      auto m = query(server_->port(), "foo.bar.svc.cluster.local", type::kA, tcp, std::nullopt,
                     std::chrono::seconds(3), host);
      ASSERT_TRUE(m.has_value()) << host << (tcp ? " tcp" : " udp");
      ASSERT_EQ(m->answers.size(), 1u);
      EXPECT_EQ(ipv4Text(m->answers[0].data), "10.96.0.20");
    }
  }
}

TEST_F(DnsServerTest, AnswersTheZoneOverUdpAndTcp) {
  start({}, std::chrono::milliseconds(300));
  for (bool tcp : {false, true}) {
    auto m = query(server_->port(), "foo.bar.svc.cluster.local", type::kA, tcp);
    ASSERT_TRUE(m.has_value()) << (tcp ? "tcp" : "udp");
    EXPECT_EQ(m->header.rcode, rcode::kNoError);
    EXPECT_TRUE(m->header.aa);
    ASSERT_EQ(m->answers.size(), 1u);
    EXPECT_EQ(ipv4Text(m->answers[0].data), "10.96.0.20");
    auto nx = query(server_->port(), "nope.bar.svc.cluster.local", type::kA, tcp);
    ASSERT_TRUE(nx.has_value());
    EXPECT_EQ(nx->header.rcode, rcode::kNXDomain);
    ASSERT_EQ(nx->authority.size(), 1u);
    EXPECT_EQ(nx->authority[0].rtype, type::kSOA);
  }
  // No upstream at all: names outside the zone are SERVFAIL, not silence.
  auto out = query(server_->port(), "example.org", type::kA);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->header.rcode, rcode::kServFail);
}

TEST_F(DnsServerTest, SeveralQueriesOnOneTcpConnection) {
  start({}, std::chrono::milliseconds(300));
  auto to = SocketAddress::parse("127.0.0.1:" + std::to_string(server_->port()), 53);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(connectWithin(fd.get(), *to, std::chrono::seconds(2)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (uint16_t id = 1; id <= 3; ++id) {
    Message q;
    q.header.id = id;
    q.questions.push_back({"foo.bar.svc.cluster.local", type::kSRV, kClassIN});
    auto w = encode(q);
    std::string framed{static_cast<char>(w->size() >> 8), static_cast<char>(w->size())};
    ASSERT_TRUE(writeAll(fd.get(), framed + *w, deadline));
    auto reply = readFramed(fd.get(), deadline);
    ASSERT_TRUE(reply.has_value());
    auto m = decode(*reply);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.id, id);
    ASSERT_EQ(m->answers.size(), 1u);
    EXPECT_EQ(std::get<SrvData>(m->answers[0].data).port, 80);
  }
}

TEST_F(DnsServerTest, GarbageGetsFormerrOrSilence) {
  start({}, std::chrono::milliseconds(300));
  std::function<Server::Reply()> none = [] { return Server::Reply(); };
  // A header claiming one question that is not there.
  std::string bad("\x77\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05", 13);
  auto r = server_->handle(bad, Server::Proto::kUdp, none, AF_INET);
  ASSERT_TRUE(r.has_value());
  auto m = decode(*r);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header.id, 0x7701);
  EXPECT_EQ(m->header.rcode, rcode::kFormErr);
  EXPECT_FALSE(server_->handle("xy", Server::Proto::kUdp, none, AF_INET).has_value());
  // A response (QR set) is never answered: no reflection loops between servers.
  std::string response("\x77\x01\x81\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12);
  EXPECT_FALSE(server_->handle(response, Server::Proto::kUdp, none, AF_INET).has_value());
}

TEST_F(DnsServerTest, ForwardsOtherNamesToTheUpstream) {
  FakeUpstream upstream(upstreamAnswer);
  start({"127.0.0.1:" + std::to_string(upstream.port())}, std::chrono::milliseconds(500));
  for (bool tcp : {false, true}) {
    auto m = query(server_->port(), "www.example.org", type::kA, tcp);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->header.rcode, rcode::kNoError);
    ASSERT_EQ(m->answers.size(), 1u);
    EXPECT_EQ(ipv4Text(m->answers[0].data), "192.0.2.1");
  }
  auto nx = query(server_->port(), "missing.example", type::kA);
  ASSERT_TRUE(nx.has_value());
  EXPECT_EQ(nx->header.rcode, rcode::kNXDomain);
  // Truncated over UDP: a UDP client gets the TC reply (and retries over TCP itself)...
  auto tc = query(server_->port(), "big.example", type::kA);
  ASSERT_TRUE(tc.has_value());
  EXPECT_TRUE(tc->header.tc);
  // ...and a TCP client gets the whole answer, fetched upstream over TCP.
  auto full = query(server_->port(), "big.example", type::kA, true);
  ASSERT_TRUE(full.has_value());
  EXPECT_FALSE(full->header.tc);
  EXPECT_EQ(full->answers.size(), 100u);
  // Cluster names never reach the upstream.
  int before = upstream.queries();
  ASSERT_TRUE(query(server_->port(), "foo.bar.svc.cluster.local", type::kA).has_value());
  EXPECT_EQ(upstream.queries(), before);
}

TEST_F(DnsServerTest, ServfailWhenTheUpstreamIsSilentOrIsOurself) {
  FakeUpstream upstream(upstreamAnswer);
  start({"127.0.0.1:" + std::to_string(upstream.port())}, std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  auto m = query(server_->port(), "silent.example", type::kA);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header.rcode, rcode::kServFail);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(DnsForwarder, NeverForwardsToItsOwnAddresses) {
  ForwarderOptions fo;
  fo.upstreams = {"127.0.0.1:5399", "10.96.0.10", "127.0.0.1:5400", "[::1]:53"};
  fo.exclude = {"127.0.0.1:5399", "10.96.0.10"};
  Forwarder f(fo);
  EXPECT_EQ(f.upstreamCount(), 2u);
  fo.upstreams = {"127.0.0.1:5399"};
  Forwarder self(fo);
  EXPECT_EQ(self.upstreamCount(), 0u);
  Message q;
  q.questions.push_back({"example.org", type::kA, kClassIN});
  auto r = self.exchange(*encode(q), true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 503);
}

TEST_F(DnsServerTest, ServesCorednsMetrics) {
  start({}, std::chrono::milliseconds(300));
  ASSERT_TRUE(query(server_->port(), "foo.bar.svc.cluster.local", type::kA).has_value());
  ASSERT_TRUE(query(server_->port(), "nope.bar.svc.cluster.local", type::kAAAA, true));
  auto to = SocketAddress::parse("127.0.0.1:" + std::to_string(server_->metricsPort()), 0);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(connectWithin(fd.get(), *to, std::chrono::seconds(2)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  ASSERT_TRUE(writeAll(fd.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", deadline));
  std::string body;
  char c;
  while (readExact(fd.get(), &c, 1, deadline)) body += c;
  EXPECT_NE(body.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(body.find("coredns_dns_requests_total{server=\"dns://127.0.0.1:0\",zone=\".\","
                      "view=\"\",proto=\"udp\",family=\"1\",type=\"A\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("proto=\"tcp\",family=\"1\",type=\"AAAA\"} 1"), std::string::npos);
  EXPECT_NE(body.find("coredns_dns_responses_total{server=\"dns://127.0.0.1:0\",zone=\".\","
                      "view=\"\",rcode=\"NXDOMAIN\",plugin=\"kubernetes\"} 1"),
            std::string::npos);
  EXPECT_NE(body.find("coredns_dns_request_duration_seconds_bucket"), std::string::npos);
}

}  // namespace
}  // namespace berth::dns
