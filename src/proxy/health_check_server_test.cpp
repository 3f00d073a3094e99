#include "proxy/health_check_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "proxy/health_check_testing.h"

namespace json = boost::json;

namespace berth::proxy {
namespace {

using testing::freePort;
using testing::get;

json::object lbService(const std::string& policy, int64_t hc) {
  json::object spec{
      {"type", "LoadBalancer"},
      {"clusterIP", "10.96.0.50"},
      {"externalTrafficPolicy", policy},
      {"ports", json::array{json::object{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}},
                            json::object{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}}}}};
  if (hc) spec["healthCheckNodePort"] = hc;
  return json::object{{"metadata", {{"namespace", "shop"}, {"name", "front"}}}, {"spec", spec}};
}

json::object endpoint(const std::string& ip, const std::string& node, bool ready) {
  return json::object{{"addresses", json::array{json::string(ip)}},
                      {"nodeName", node},
                      {"conditions", {{"ready", ready}}}};
}

json::object slice() {
  return json::object{
      {"metadata",
       {{"namespace", "shop"},
        {"name", "front-x"},
        {"labels", {{"kubernetes.io/service-name", "front"}}}}},
      {"addressType", "IPv4"},
      {"ports", json::array{json::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}},
                            json::object{{"name", "https"}, {"port", 8443}, {"protocol", "TCP"}}}},
      {"endpoints",
       json::array{endpoint("10.244.0.5", "node-a", true), endpoint("10.244.0.6", "node-a", false),
                   endpoint("10.244.1.5", "node-b", true),
                   endpoint("10.244.1.6", "node-b", true)}}};
}

TEST(HealthCheckOf, CountsReadyLocalAddressesOfLocalLoadBalancers) {
  auto s = slice();
  std::vector<const json::object*> slices{&s};
  auto a = healthCheckOf(lbService("Local", 30500), slices, "node-a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, 30500);
  // One ready address behind two ports is one endpoint; the unready one does not count.
  EXPECT_EQ(a->second, (HealthCheckTarget{"shop", "front", 1}));
  EXPECT_EQ(healthCheckOf(lbService("Local", 30500), slices, "node-b")->second.localEndpoints, 2);
  EXPECT_EQ(healthCheckOf(lbService("Local", 30500), slices, "node-c")->second.localEndpoints, 0);
  EXPECT_FALSE(healthCheckOf(lbService("Cluster", 0), slices, "node-a").has_value());
  EXPECT_FALSE(healthCheckOf(lbService("Local", 0), slices, "node-a").has_value());
}

TEST(HealthCheckResponse, AsUpstreamsHandler) {
  EXPECT_EQ(healthCheckResponse({"shop", "front", 2}),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Content-Type-Options: "
            "nosniff\r\nX-Load-Balancing-Endpoint-Weight: 2\r\nContent-Length: 113\r\n"
            "Connection: close\r\n\r\n"
            "{\n\t\"service\": {\n\t\t\"namespace\": \"shop\",\n\t\t\"name\": \"front\"\n\t},\n"
            "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");
  auto none = healthCheckResponse({"shop", "front", 0});
  EXPECT_TRUE(none.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << none;
  EXPECT_NE(none.find("\"localEndpoints\": 0,"), std::string::npos);
  EXPECT_TRUE(healthCheckResponse({"shop", "front", 1}, false).starts_with("HTTP/1.1 503"));
}

TEST(HealthCheckServer, AnswersOnEachPortAndFollowsSyncs) {
  HealthCheckServer server({"127.0.0.1"});
  int p1 = freePort(), p2 = freePort();
  ASSERT_TRUE(server.sync({{p1, {"shop", "front", 1}}, {p2, {"shop", "back", 0}}}).ok());
  auto r1 = get(p1);
  EXPECT_TRUE(r1.starts_with("HTTP/1.1 200 OK\r\n")) << r1;
  auto body = r1.substr(r1.find("\r\n\r\n") + 4);
  auto parsed = json::parse(body).as_object();
  EXPECT_EQ(parsed["service"].as_object()["name"], "front");
  EXPECT_EQ(parsed["service"].as_object()["namespace"], "shop");
  EXPECT_EQ(parsed["localEndpoints"], 1);
  EXPECT_EQ(parsed["serviceProxyHealthy"], true);
  auto r2 = get(p2);
  EXPECT_TRUE(r2.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << r2;
  EXPECT_NE(r2.find("\"name\": \"back\""), std::string::npos);

  // The node loses its endpoint; then the Service stops needing the port.
  ASSERT_TRUE(server.sync({{p1, {"shop", "front", 0}}, {p2, {"shop", "back", 3}}}).ok());
  EXPECT_TRUE(get(p1).starts_with("HTTP/1.1 503")) << get(p1);
  EXPECT_NE(get(p2).find("X-Load-Balancing-Endpoint-Weight: 3\r\n"), std::string::npos);
  ASSERT_TRUE(server.sync({{p2, {"shop", "back", 3}}}).ok());
  EXPECT_EQ(server.ports(), std::vector<int>{p2});
  EXPECT_EQ(get(p1), "");  // refused
  EXPECT_TRUE(get(p2).starts_with("HTTP/1.1 200 OK"));
}

TEST(HealthCheckServer, APortItCannotBindIsReported) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int taken = ntohs(a.sin_port), free = freePort();
  HealthCheckServer server({"127.0.0.1"});
  auto st = server.sync({{taken, {"shop", "front", 1}}, {free, {"shop", "back", 1}}});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << st.message();
  EXPECT_EQ(server.ports(), std::vector<int>{free});  // the other one is served all the same
  EXPECT_TRUE(get(free).starts_with("HTTP/1.1 200 OK"));
  ::close(fd);
}

}  // namespace
}  // namespace berth::proxy
