// Unit tests of the DaemonSet controller's pure decisions: node eligibility (selectors, affinity,
// taints vs tolerations), the manage plan, rolling-update steps and status counting.
#include "controllers/daemonset/plan.h"

#include <gtest/gtest.h>

#include "controllers/daemonset/node_eligibility.h"

namespace berth::controllers::daemonset {
namespace {

namespace json = boost::json;
using client::ObjectPtr;

ObjectPtr ptr(std::string_view text) {
  return std::make_shared<const json::value>(json::parse(text));
}

json::value daemonSet(std::string_view podSpec = R"({"containers":[{"name":"c","image":"i"}]})",
                      std::string_view strategy = R"({"type":"RollingUpdate",
                          "rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})") {
  return json::parse(std::string(R"({"metadata":{"name":"ds","namespace":"default","uid":"u1"},
    "spec":{"selector":{"matchLabels":{"app":"a"}},"updateStrategy":)") +
                     std::string(strategy) +
                     R"(,"template":{"metadata":{"labels":{"app":"a"}},"spec":)" +
                     std::string(podSpec) + "}}}");
}

ObjectPtr node(const std::string& name, std::string_view labels = "{}",
               std::string_view taints = "[]") {
  return ptr(R"({"metadata":{"name":")" + name + R"(","labels":)" + std::string(labels) +
             R"(},"spec":{"taints":)" + std::string(taints) + "}}");
}

// A daemon pod for `nodeName`: bound when `bound`, else pinned by affinity only.
ObjectPtr pod(const std::string& name, const std::string& nodeName, const std::string& hash,
              bool ready = true, std::string phase = "Running", std::string created = "01",
              bool bound = true) {
  std::string spec =
      bound ? R"({"nodeName":")" + nodeName + R"("})"
            : R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
                 {"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In",
                 "values":[")" +
                  nodeName + R"("]}]}]}}}})";
  return ptr(R"({"metadata":{"name":")" + name +
             R"(","namespace":"default","creationTimestamp":"2024-01-01T00:00:)" + created +
             R"(Z","labels":{"app":"a","controller-revision-hash":")" + hash + R"("}},"spec":)" +
             spec + R"(,"status":{"phase":")" + phase +
             R"(","conditions":[{"type":"Ready","status":")" + (ready ? "True" : "False") +
             R"(","lastTransitionTime":"2024-01-01T00:00:00Z"}]}})");
}

std::vector<std::string> names(const std::vector<ObjectPtr>& pods) {
  std::vector<std::string> out;
  for (auto& p : pods) out.push_back(strAt(metaOf(*p), "name"));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TolerationTest, MatchesKeyEffectAndOperator) {
  auto taint = json::parse(R"({"key":"k","value":"v","effect":"NoSchedule"})").as_object();
  EXPECT_TRUE(tolerates(json::parse(R"({"key":"k","value":"v"})").as_object(), taint));
  EXPECT_TRUE(tolerates(json::parse(R"({"key":"k","operator":"Exists"})").as_object(), taint));
  EXPECT_TRUE(tolerates(json::parse(R"({"operator":"Exists"})").as_object(), taint));
  EXPECT_FALSE(tolerates(json::parse(R"({"key":"k","value":"w"})").as_object(), taint));
  EXPECT_FALSE(tolerates(
      json::parse(R"({"key":"k","operator":"Exists","effect":"NoExecute"})").as_object(), taint));
  EXPECT_FALSE(tolerates(json::parse(R"({"key":"other","operator":"Exists"})").as_object(), taint));
}

TEST(NodeEligibilityTest, NodeSelectorAndRequiredAffinity) {
  auto ds = daemonSet(R"({"nodeSelector":{"role":"web"},"containers":[]})");
  EXPECT_TRUE(nodeShouldRunDaemonPod(*node("a", R"({"role":"web"})"), ds).shouldRun);
  Placement p = nodeShouldRunDaemonPod(*node("b", R"({"role":"db"})"), ds);
  EXPECT_FALSE(p.shouldRun);
  EXPECT_FALSE(p.shouldContinueRunning);

  auto aff =
      daemonSet(R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchExpressions":[{"key":"gen","operator":"Gt","values":["3"]}]},
                            {"matchExpressions":[{"key":"zone","operator":"NotIn","values":["x"]},
                                                 {"key":"ssd","operator":"Exists"}]}]}}}})");
  EXPECT_TRUE(nodeShouldRunDaemonPod(*node("a", R"({"gen":"4"})"), aff).shouldRun);
  EXPECT_FALSE(nodeShouldRunDaemonPod(*node("a", R"({"gen":"3"})"), aff).shouldRun);
  EXPECT_TRUE(nodeShouldRunDaemonPod(*node("a", R"({"ssd":""})"), aff).shouldRun);
  EXPECT_FALSE(nodeShouldRunDaemonPod(*node("a", R"({"ssd":"","zone":"x"})"), aff).shouldRun);

  auto byName =
      daemonSet(R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["b"]}]}]}}}})");
  EXPECT_FALSE(nodeShouldRunDaemonPod(*node("a"), byName).shouldRun);
  EXPECT_TRUE(nodeShouldRunDaemonPod(*node("b"), byName).shouldRun);
}

TEST(NodeEligibilityTest, TaintsAgainstTemplateAndDefaultTolerations) {
  auto ds = daemonSet();
  // The controller's default tolerations cover node-condition taints.
  for (const char* t : {R"([{"key":"node.kubernetes.io/not-ready","effect":"NoExecute"}])",
                        R"([{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"}])",
                        R"([{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}])",
                        R"([{"key":"node.kubernetes.io/disk-pressure","effect":"NoSchedule"}])",
                        R"([{"key":"node.kubernetes.io/memory-pressure","effect":"NoSchedule"}])",
                        R"([{"key":"node.kubernetes.io/pid-pressure","effect":"NoSchedule"}])"}) {
    EXPECT_TRUE(nodeShouldRunDaemonPod(*node("a", "{}", t), ds).shouldRun) << t;
  }
  // network-unavailable only for hostNetwork pods.
  const char* netTaint =
      R"([{"key":"node.kubernetes.io/network-unavailable","effect":"NoSchedule"}])";
  EXPECT_FALSE(nodeShouldRunDaemonPod(*node("a", "{}", netTaint), ds).shouldRun);
  EXPECT_TRUE(nodeShouldRunDaemonPod(*node("a", "{}", netTaint),
                                     daemonSet(R"({"hostNetwork":true,"containers":[]})"))
                  .shouldRun);
  // Untolerated NoSchedule: no new pod, an existing one may stay.
  Placement p =
      nodeShouldRunDaemonPod(*node("a", "{}", R"([{"key":"x","effect":"NoSchedule"}])"), ds);
  EXPECT_FALSE(p.shouldRun);
  EXPECT_TRUE(p.shouldContinueRunning);
  // Untolerated NoExecute: must go.
  p = nodeShouldRunDaemonPod(*node("a", "{}", R"([{"key":"x","effect":"NoExecute"}])"), ds);
  EXPECT_FALSE(p.shouldContinueRunning);
  // PreferNoSchedule is ignored; a template toleration helps.
  EXPECT_TRUE(
      nodeShouldRunDaemonPod(*node("a", "{}", R"([{"key":"x","effect":"PreferNoSchedule"}])"), ds)
          .shouldRun);
  auto tolerant = daemonSet(R"({"tolerations":[{"key":"x","operator":"Exists"}],"containers":[]})");
  EXPECT_TRUE(
      nodeShouldRunDaemonPod(*node("a", "{}", R"([{"key":"x","effect":"NoExecute"}])"), tolerant)
          .shouldRun);
}

TEST(NodeEligibilityTest, DefaultTolerationsAreAddedOnce) {
  json::object spec = json::parse(R"({"tolerations":[{"key":"node.kubernetes.io/not-ready",
      "operator":"Exists","effect":"NoExecute","tolerationSeconds":5}]})")
                          .as_object();
  addDaemonTolerations(spec);
  addDaemonTolerations(spec);
  const json::array& tols = spec["tolerations"].as_array();
  ASSERT_EQ(tols.size(), 6u);
  EXPECT_FALSE(tols[0].as_object().contains("tolerationSeconds"));  // replaced in place
}

TEST(NodeEligibilityTest, PinToNodeReplacesRequiredTermsOnly) {
  json::object spec = json::parse(R"({"affinity":{"nodeAffinity":{
      "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":
        [{"key":"a","operator":"Exists"}]}]},
      "preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{}}]}}})")
                          .as_object();
  pinToNode(spec, "n7");
  json::value pod{{"spec", spec}};
  EXPECT_EQ(targetNodeName(pod), "n7");
  const auto& na = spec["affinity"].as_object()["nodeAffinity"].as_object();
  EXPECT_TRUE(na.contains("preferredDuringSchedulingIgnoredDuringExecution"));
  EXPECT_EQ(na.at("requiredDuringSchedulingIgnoredDuringExecution")
                .at("nodeSelectorTerms")
                .as_array()
                .size(),
            1u);
}

TEST(ManagePlanTest, CreatesMissingAndDeletesSurplusFailedAndOrphaned) {
  auto ds = daemonSet(R"({"nodeSelector":{"role":"web"},"containers":[]})");
  std::vector<ObjectPtr> nodes{node("n1", R"({"role":"web"})"), node("n2", R"({"role":"web"})"),
                               node("n3", R"({"role":"db"})"), node("n4", R"({"role":"web"})")};
  auto pods = podsByNode({pod("p1a", "n1", "h", true, "Running", "01"),
                          pod("p1b", "n1", "h", true, "Running", "02"),  // surplus: newer
                          pod("p3", "n3", "h"),                          // node no longer fits
                          pod("p4", "n4", "h", false, "Failed"),
                          pod("p9", "gone", "h", false, "Pending", "01", /*bound=*/false)});
  ManagePlan plan = planManage(ds, nodes, pods, "h");
  EXPECT_EQ(plan.nodesNeedingPods, std::vector<std::string>{"n2"});
  EXPECT_EQ(names(plan.podsToDelete), (std::vector<std::string>{"p1b", "p3", "p4", "p9"}));
  EXPECT_EQ(names(plan.failedPods), std::vector<std::string>{"p4"});
}

TEST(ManagePlanTest, SurgeKeepsOldestNewAndOldestOld) {
  auto ds =
      daemonSet(R"({"containers":[]})",
                R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}})");
  auto pods = podsByNode({pod("old1", "n1", "old", true, "Running", "01"),
                          pod("old2", "n1", "old", true, "Running", "02"),
                          pod("new1", "n1", "new", true, "Running", "03")});
  ManagePlan plan = planManage(ds, {node("n1")}, pods, "new");
  EXPECT_EQ(names(plan.podsToDelete), std::vector<std::string>{"old2"});
}

TEST(RollingUpdateTest, MaxUnavailableBoundsDeletions) {
  auto ds = daemonSet();  // maxUnavailable 1
  std::vector<ObjectPtr> nodes{node("n1"), node("n2"), node("n3")};
  auto now = std::chrono::system_clock::now();
  auto pods = podsByNode({pod("a", "n1", "old"), pod("b", "n2", "old"), pod("c", "n3", "old")});
  RolloutPlan plan = planRollingUpdate(ds, nodes, pods, "new", 3, now);
  EXPECT_EQ(plan.podsToDelete.size(), 1u);
  EXPECT_TRUE(plan.nodesNeedingPods.empty());
  // One updated pod not yet ready uses the budget; an unavailable old pod is replaced anyway.
  pods = podsByNode(
      {pod("a", "n1", "new", false), pod("b", "n2", "old", false), pod("c", "n3", "old")});
  plan = planRollingUpdate(ds, nodes, pods, "new", 3, now);
  EXPECT_EQ(names(plan.podsToDelete), std::vector<std::string>{"b"});
  // 50% of 3 rounds up to 2.
  auto pct = daemonSet(R"({"containers":[]})",
                       R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"50%"}})");
  pods = podsByNode({pod("a", "n1", "old"), pod("b", "n2", "old"), pod("c", "n3", "old")});
  EXPECT_EQ(planRollingUpdate(pct, nodes, pods, "new", 3, now).podsToDelete.size(), 2u);
}

TEST(RollingUpdateTest, SurgeCreatesFirstThenDeletesOld) {
  auto ds =
      daemonSet(R"({"containers":[]})",
                R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}})");
  std::vector<ObjectPtr> nodes{node("n1"), node("n2")};
  auto now = std::chrono::system_clock::now();
  auto pods = podsByNode({pod("a", "n1", "old"), pod("b", "n2", "old")});
  RolloutPlan plan = planRollingUpdate(ds, nodes, pods, "new", 2, now);
  EXPECT_EQ(plan.nodesNeedingPods.size(), 1u);
  EXPECT_TRUE(plan.podsToDelete.empty());
  // New pod on n1 not ready: surge budget used, nothing else happens.
  pods = podsByNode({pod("a", "n1", "old"), pod("a2", "n1", "new", false, "Running", "05"),
                     pod("b", "n2", "old")});
  plan = planRollingUpdate(ds, nodes, pods, "new", 2, now);
  EXPECT_TRUE(plan.nodesNeedingPods.empty());
  EXPECT_TRUE(plan.podsToDelete.empty());
  // Ready: the old pod on n1 goes and n2 may surge.
  pods = podsByNode({pod("a", "n1", "old"), pod("a2", "n1", "new", true, "Running", "05"),
                     pod("b", "n2", "old")});
  plan = planRollingUpdate(ds, nodes, pods, "new", 2, now);
  EXPECT_EQ(names(plan.podsToDelete), std::vector<std::string>{"a"});
  EXPECT_EQ(plan.nodesNeedingPods, std::vector<std::string>{"n2"});
}

TEST(StatusTest, CountsPerNodeByOldestPod) {
  auto ds = daemonSet(R"({"nodeSelector":{"role":"web"},"containers":[]})");
  std::vector<ObjectPtr> nodes{node("n1", R"({"role":"web"})"), node("n2", R"({"role":"web"})"),
                               node("n3", R"({"role":"web"})"), node("n4", R"({"role":"db"})")};
  auto pods = podsByNode({pod("a", "n1", "h"), pod("b", "n2", "old", false), pod("d", "n4", "h")});
  json::object s = computeStatus(ds, nodes, pods, "h", std::chrono::system_clock::now());
  EXPECT_EQ(s["desiredNumberScheduled"], 3);
  EXPECT_EQ(s["currentNumberScheduled"], 2);
  EXPECT_EQ(s["numberMisscheduled"], 1);
  EXPECT_EQ(s["numberReady"], 1);
  EXPECT_EQ(s["numberAvailable"], 1);
  EXPECT_EQ(s["numberUnavailable"], 2);
  EXPECT_EQ(s["updatedNumberScheduled"], 1);
}

TEST(PodTemplateTest, HashLabelAndTolerations) {
  auto ds = daemonSet();
  ds.as_object()["metadata"].as_object()["annotations"] =
      json::object{{kTemplateGenerationAnnotation, "3"}};
  json::object t = podTemplateFor(ds, "abc");
  const auto& labels = t["metadata"].as_object()["labels"].as_object();
  EXPECT_EQ(labels.at(kRevisionHashLabel), "abc");
  EXPECT_EQ(labels.at(kTemplateGenerationLabel), "3");
  EXPECT_EQ(labels.at("app"), "a");
  EXPECT_EQ(t["spec"].as_object()["tolerations"].as_array().size(), 6u);
}

TEST(WorkloadUtilTest, HashScaledValueAndTime) {
  json::value tmpl = json::parse(R"({"spec":{"containers":[{"image":"a"}]}})");
  std::string h = computeHash(tmpl, std::nullopt);
  EXPECT_EQ(h, computeHash(tmpl, std::nullopt));
  EXPECT_NE(h, computeHash(tmpl, 1));
  EXPECT_NE(h, computeHash(json::parse(R"({"spec":{"containers":[{"image":"b"}]}})"), {}));
  EXPECT_EQ(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
  json::value pct = "25%";
  EXPECT_EQ(*scaledValue(&pct, 10, true), 3);
  EXPECT_EQ(*scaledValue(&pct, 10, false), 2);
  json::value bad = "x%";
  EXPECT_FALSE(scaledValue(&bad, 10, true).ok());
  auto t = parseTime("2024-03-01T12:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatTime(*t), "2024-03-01T12:00:00Z");
  EXPECT_EQ(formatTime(*parseTime("2024-03-01T13:30:00+01:30")), "2024-03-01T12:00:00Z");
  EXPECT_FALSE(parseTime("2024-03-01 12:00:00"));
}

}  // namespace
}  // namespace berth::controllers::daemonset
