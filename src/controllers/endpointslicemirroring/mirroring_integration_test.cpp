// The mirroring controller inside the real `berth server`: the Endpoints of a selector-less
// Service show up as a slice (ready and not-ready addresses, ports), follow updates and go with
// the Endpoints; skip-mirror Endpoints (the API server's `kubernetes`) are not mirrored.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"

namespace berth::controllers::endpointslicemirroring {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEndpoints{"", "v1", "endpoints", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};

// "ip:ready ..." @ports of the mirrored slices of `svc`.
std::string mirroredOf(client::RestClient& c, const std::string& svc) {
  client::ListOptions o;
  o.labelSelector = "kubernetes.io/service-name=" + svc +
                    ",endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io";
  auto l = c.list(kSlices, "default", o);
  if (!l.ok()) return "error";
  std::string out;
  for (const auto& s : l->at("items").as_array()) {
    for (const auto& e : s.at("endpoints").as_array()) {
      out += std::string(e.at("addresses").as_array()[0].as_string()) + ":" +
             (e.at("conditions").at("ready").as_bool() ? "1" : "0") + " ";
    }
    if (const auto* ps = s.as_object().if_contains("ports"))
      out += "@" + json::serialize(ps->as_array()[0].at("port"));
  }
  return out;
}

TEST(MirroringIntegration, SelectorlessEndpointsBecomeSlices) {
  client::testing::TestServer server;
  server.setExtraArgs({"--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto c = server.client("mirroring-test");
  json::object svc{{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata", {{"name", "ext"}}},
                   {"spec", {{"ports", json::array{{{"name", "db"}, {"port", 5432}}}}}}};
  ASSERT_TRUE(c->create(kServices, "default", svc).ok());
  json::object ep{{"apiVersion", "v1"},
                  {"kind", "Endpoints"},
                  {"metadata", {{"name", "ext"}}},
                  {"subsets", json::array{{{"addresses", json::array{{{"ip", "192.0.2.1"}}}},
                                           {"notReadyAddresses", json::array{{{"ip", "192.0.2.2"}}}},
                                           {"ports", json::array{{{"name", "db"}, {"port", 5432}}}}}}}};
  ASSERT_TRUE(c->create(kEndpoints, "default", ep).ok());
  EXPECT_TRUE(eventually([&] { return mirroredOf(*c, "ext") == "192.0.2.1:1 192.0.2.2:0 @5432"; }))
      << mirroredOf(*c, "ext");
  auto cur = c->get(kEndpoints, "default", "ext");
  ASSERT_TRUE(cur.ok());
  cur->as_object()["subsets"].as_array()[0].as_object().erase("notReadyAddresses");
  ASSERT_TRUE(c->update(kEndpoints, "default", *cur).ok());
  EXPECT_TRUE(eventually([&] { return mirroredOf(*c, "ext") == "192.0.2.1:1 @5432"; }))
      << mirroredOf(*c, "ext");
  ASSERT_TRUE(c->remove(kEndpoints, "default", "ext").ok());
  EXPECT_TRUE(eventually([&] { return mirroredOf(*c, "ext").empty(); })) << mirroredOf(*c, "ext");
  EXPECT_EQ(mirroredOf(*c, "kubernetes"), "") << "skip-mirror Endpoints are not mirrored";
}

}  // namespace
}  // namespace berth::controllers::endpointslicemirroring
