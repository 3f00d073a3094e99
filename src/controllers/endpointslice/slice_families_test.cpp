// EndpointSlices per address family: a dual-stack Service gets IPv4 and IPv6 slices from its
// pods' status.podIPs, an IPv6-only Service only IPv6 ones, and a Service downgraded to one
// family loses the other family's slices.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controllers/endpointslice/slice_reconciler.h"

namespace berth::controllers::endpointslice {
namespace {

namespace json = boost::json;

json::value service(json::array families) {
  return json::object{
      {"metadata", {{"name", "web"}, {"namespace", "ns"}, {"uid", "svc-uid"}}},
      {"spec",
       {{"selector", {{"app", "web"}}},
        {"ipFamilies", std::move(families)},
        {"ports", json::array{{{"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}}}}}}};
}

client::ObjectPtr pod(const std::string& name, json::array ips) {
  json::array podIps;
  for (const auto& ip : ips) podIps.push_back(json::object{{"ip", ip}});
  return std::make_shared<const json::value>(
      json::object{{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", name + "-uid"}}},
                   {"spec", {{"nodeName", "node-a"}, {"containers", json::array{{{"name", "c"}}}}}},
                   {"status",
                    {{"phase", "Running"},
                     {"podIP", ips.empty() ? json::string() : ips[0].as_string()},
                     {"podIPs", std::move(podIps)},
                     {"conditions", json::array{{{"type", "Ready"}, {"status", "True"}}}}}}});
}

std::string addresses(const json::object& slice) {
  std::string out;
  for (const auto& e : slice.at("endpoints").as_array())
    out += std::string(e.at("addresses").as_array()[0].as_string()) + " ";
  return out;
}

TEST(SliceFamilies, OneSetOfSlicesPerFamily) {
  json::value svc = service({"IPv4", "IPv6"});
  SliceInputs in;
  in.service = &svc;
  in.pods = {pod("a", {"10.244.0.2", "fd00:10:244::2"}), pod("b", {"10.244.0.3"})};
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 2u);
  EXPECT_EQ(plan.creates[0].at("addressType"), "IPv4");
  EXPECT_EQ(addresses(plan.creates[0]), "10.244.0.2 10.244.0.3 ");
  EXPECT_EQ(plan.creates[1].at("addressType"), "IPv6");
  EXPECT_EQ(addresses(plan.creates[1]), "fd00:10:244::2 ") << "b has no IPv6 address";

  json::value six = service({"IPv6"});
  in.service = &six;
  in.pods = {pod("c", {"fd00:10:244::4"})};  // an IPv6-only pod
  plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].at("addressType"), "IPv6");
  EXPECT_EQ(addresses(plan.creates[0]), "fd00:10:244::4 ");
}

TEST(SliceFamilies, ADroppedFamilyLosesItsSlices) {
  // The slices a dual-stack Service got, as stored (named, owned by the Service).
  json::value dual = service({"IPv4", "IPv6"});
  SliceInputs in;
  in.service = &dual;
  in.pods = {pod("a", {"10.244.0.2", "fd00:10:244::2"})};
  SlicePlan first = reconcileSlices(in);
  ASSERT_EQ(first.creates.size(), 2u);
  for (auto& created : first.creates) {
    auto& meta = created["metadata"].as_object();
    meta["name"] = "web-" + std::string(created.at("addressType").as_string());
    in.ownedSlices.push_back(std::make_shared<const json::value>(created));
  }
  // Downgraded to IPv4 only: its IPv6 slice goes, the IPv4 one stays as it is.
  json::value single = service({"IPv4"});
  in.service = &single;
  SlicePlan plan = reconcileSlices(in);
  EXPECT_EQ(plan.deletes, std::vector<std::string>{"web-IPv6"});
  EXPECT_TRUE(plan.updates.empty());
  EXPECT_TRUE(plan.creates.empty());
}

}  // namespace
}  // namespace berth::controllers::endpointslice
