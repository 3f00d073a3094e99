#include "proxy/proxy_healthz.h"

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

TEST(ProxyHealthz, ParsesBindAddresses) {
  EXPECT_EQ(parseBindAddress("0.0.0.0:10256").value(),
            std::make_pair(std::string("0.0.0.0"), 10256));
  EXPECT_EQ(parseBindAddress(":10256").value(), std::make_pair(std::string("0.0.0.0"), 10256));
  EXPECT_EQ(parseBindAddress("[::]:10256").value(), std::make_pair(std::string("::"), 10256));
  for (const char* bad :
       {"10256", "0.0.0.0", "0.0.0.0:99999", "::1:10256", "host:1", "1.2.3.4:x"}) {
    auto r = parseBindAddress(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), 400);
    EXPECT_NE(r.status().message().find("--healthz-bind-address: invalid value \"" +
                                        std::string(bad) + "\""),
              std::string::npos)
        << r.status().message();
  }
}

TEST(ProxyHealthz, AnswersAsUpstream) {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)) +
             std::chrono::milliseconds(250);
  auto earlier = now - std::chrono::minutes(5);
  auto ok = proxyHealthzResponse("/healthz", {true, earlier}, now);
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")) << ok;
  // Healthy: lastUpdated is now (upstream's compatibility rule).
  EXPECT_TRUE(
      ok.ends_with("\r\n\r\n{\"lastUpdated\": \"2023-11-14 22:13:20.25 +0000 UTC\","
                   "\"currentTime\": \"2023-11-14 22:13:20.25 +0000 UTC\", "
                   "\"nodeEligible\": true}"))
      << ok;
  auto bad = proxyHealthzResponse("/livez", {false, earlier}, now);
  EXPECT_TRUE(bad.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << bad;
  EXPECT_NE(bad.find("{\"lastUpdated\": \"2023-11-14 22:08:20.25 +0000 UTC\""), std::string::npos)
      << bad;
  EXPECT_TRUE(proxyHealthzResponse("/", {true, now}, now).starts_with("HTTP/1.1 404 Not Found"));
}

TEST(ProxyHealthz, ReportsABindFailure) {
  ProxyHealthzServer first("127.0.0.1:0", [] { return ProxyHealth{true, {}}; });
  ASSERT_TRUE(first.start().ok());
  ASSERT_GT(first.port(), 0);
  ProxyHealthzServer second("127.0.0.1:" + std::to_string(first.port()), [] {
    return ProxyHealth{true, {}};
  });
  auto st = second.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace berth::proxy
