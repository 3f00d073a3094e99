#include "core/volume_binding.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::core::volumes {
namespace {

namespace json = boost::json;

json::object pv(const std::string& name, const std::string& size, const std::string& extraSpec = "",
                const std::string& phase = "Available", const std::string& labels = "{}") {
  std::string spec = R"({"capacity":{"storage":")" + size +
                     R"("},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/x"}})";
  if (!extraSpec.empty()) spec.insert(spec.size() - 1, "," + extraSpec);
  return json::parse(R"({"metadata":{"name":")" + name + R"(","labels":)" + labels +
                     R"(},"spec":)" + spec + R"(,"status":{"phase":")" + phase + R"("}})")
      .as_object();
}

json::object claim(const std::string& size, const std::string& extraSpec = "") {
  std::string spec =
      R"({"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":")" + size + R"("}}})";
  if (!extraSpec.empty()) spec.insert(spec.size() - 1, "," + extraSpec);
  return json::parse(R"({"metadata":{"name":"data","namespace":"ns","uid":"u1"},"spec":)" + spec +
                     "}")
      .as_object();
}

std::string nameOf(const json::object* o) {
  return o ? std::string(o->at("metadata").as_object().at("name").as_string()) : "<none>";
}

TEST(VolumeBinding, PicksTheSmallestVolumeThatSatisfiesTheClaim) {
  auto small = pv("small", "500Mi"), fit = pv("fit", "1Gi"), big = pv("big", "10Gi");
  std::vector<const json::object*> all{&big, &small, &fit};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), all, nullptr, false)), "fit");
  EXPECT_EQ(nameOf(findMatchingVolume(claim("2Gi"), all, nullptr, false)), "big");
  EXPECT_EQ(nameOf(findMatchingVolume(claim("20Gi"), all, nullptr, false)), "<none>");
}

TEST(VolumeBinding, ClassAccessModesSelectorAndClaimRefMustAgree) {
  auto classed = pv("classed", "1Gi", R"("storageClassName":"fast")");
  auto rwx = pv("rwx", "1Gi");
  rwx["spec"].as_object()["accessModes"] = json::array{"ReadWriteMany"};
  auto labelled = pv("labelled", "5Gi", "", "Available", R"({"tier":"gold"})");
  auto taken = pv("taken", "1Gi", R"("claimRef":{"namespace":"ns","name":"other","uid":"u9"})");
  std::vector<const json::object*> all{&classed, &rwx, &labelled, &taken};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), all, nullptr, false)), "labelled");
  EXPECT_EQ(
      nameOf(findMatchingVolume(claim("1Gi", R"("storageClassName":"fast")"), all, nullptr, false)),
      "classed");
  EXPECT_EQ(
      nameOf(findMatchingVolume(claim("1Gi", R"("selector":{"matchLabels":{"tier":"silver"}})"),
                                all, nullptr, false)),
      "<none>");
  auto rwxClaim = claim("1Gi");
  rwxClaim["spec"].as_object()["accessModes"] = json::array{"ReadWriteMany"};
  EXPECT_EQ(nameOf(findMatchingVolume(rwxClaim, all, nullptr, false)), "rwx");
}

TEST(VolumeBinding, PreBoundVolumeWinsAndDelayedBindingWaitsForANode) {
  auto free = pv("free", "1Gi");
  auto mine = pv("mine", "8Gi", R"("claimRef":{"namespace":"ns","name":"data"})");
  std::vector<const json::object*> all{&free, &mine};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), all, nullptr, false)), "mine");
  std::vector<const json::object*> onlyFree{&free};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), onlyFree, nullptr, true)), "<none>");
  NodeView n1{"n1", {{"kubernetes.io/hostname", "n1"}}};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), onlyFree, &n1, true)), "free");
  // A claimRef with another uid is a different (deleted and re-created) claim.
  auto stale = pv("stale", "1Gi", R"("claimRef":{"namespace":"ns","name":"data","uid":"old"})");
  EXPECT_FALSE(volumeBoundToClaim(stale, claim("1Gi")));
}

TEST(VolumeBinding, NodeAffinity) {
  auto local = pv("local", "1Gi",
                  R"("nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[
                      {"key":"kubernetes.io/hostname","operator":"In","values":["n1"]}]}]}})");
  NodeView n1{"n1", {{"kubernetes.io/hostname", "n1"}}},
      n2{"n2", {{"kubernetes.io/hostname", "n2"}}};
  EXPECT_TRUE(volumeNodeAffinityMatches(local, n1));
  EXPECT_FALSE(volumeNodeAffinityMatches(local, n2));
  EXPECT_TRUE(volumeNodeAffinityMatches(pv("any", "1Gi"), n2));
  EXPECT_EQ(volumePinnedNode(local), "n1");
  std::vector<const json::object*> all{&local};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), all, &n2, true)), "<none>");
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), all, &n1, true)), "local");
  auto released = pv("released", "1Gi", "", "Released");
  std::vector<const json::object*> rel{&released};
  EXPECT_EQ(nameOf(findMatchingVolume(claim("1Gi"), rel, &n1, true)), "<none>");
}

}  // namespace
}  // namespace berth::core::volumes
