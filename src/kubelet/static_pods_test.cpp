#include "kubelet/static_pods.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "kubelet/container_config.h"

namespace fs = std::filesystem;

namespace berth::kubelet {
namespace {

const char* kWeb = R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
    - name: web
      image: berth-test/web:1.0
)";

std::string annotation(const boost::json::object& pod, std::string_view key) {
  return str(*obj(*obj(pod, "metadata"), "annotations"), key);
}

TEST(StaticPods, ManifestBecomesThePodOfThisNode) {
  auto pod = staticPodFromManifest(kWeb, "/m/web.yaml", "Node-1");
  ASSERT_TRUE(pod.ok()) << pod.status().message();
  const auto& meta = *obj(*pod, "metadata");
  EXPECT_EQ(str(meta, "name"), "web-node-1");
  EXPECT_EQ(str(meta, "namespace"), "default");
  EXPECT_EQ(str(*obj(*pod, "spec"), "nodeName"), "node-1");
  std::string uid = str(meta, "uid");
  EXPECT_EQ(uid.size(), 32u);
  EXPECT_EQ(annotation(*pod, kConfigHashAnnotation), uid);
  EXPECT_EQ(annotation(*pod, kConfigSourceAnnotation), "file");
  EXPECT_EQ(str(*obj(meta, "labels"), "app"), "web");
  const auto* tol = arr(*obj(*pod, "spec"), "tolerations");
  ASSERT_TRUE(tol && tol->size() == 1);
  EXPECT_EQ(str(tol->at(0).as_object(), "effect"), "NoExecute");
}

TEST(StaticPods, HashFollowsContentNodeAndFile) {
  auto a = staticPodFromManifest(kWeb, "/m/web.yaml", "n1");
  auto same = staticPodFromManifest(kWeb, "/m/web.yaml", "n1");
  // The same pod as JSON is a different text but could be the same object; what matters is that
  // a changed spec, another node or another file give another UID.
  auto changed = staticPodFromManifest(std::string(kWeb) + "      args: [x]\n", "/m/web.yaml", "n1");
  auto otherNode = staticPodFromManifest(kWeb, "/m/web.yaml", "n2");
  auto otherFile = staticPodFromManifest(kWeb, "/m/web2.yaml", "n1");
  ASSERT_TRUE(a.ok() && same.ok() && changed.ok() && otherNode.ok() && otherFile.ok());
  auto uid = [](const boost::json::object& p) { return str(*obj(p, "metadata"), "uid"); };
  EXPECT_EQ(uid(*a), uid(*same));
  EXPECT_NE(uid(*a), uid(*changed));
  EXPECT_NE(uid(*a), uid(*otherNode));
  EXPECT_NE(uid(*a), uid(*otherFile));
}

TEST(StaticPods, BadManifestsAreErrorsNotCrashes) {
  for (const char* text :
       {"", "[1,2]", "kind: Service\napiVersion: v1\nmetadata: {name: x}",
        "kind: Pod\napiVersion: v2\nmetadata: {name: x}\nspec: {containers: [{name: a, image: b}]}",
        "kind: Pod\napiVersion: v1\nspec: {containers: [{name: a, image: b}]}",
        "kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec: {containers: []}",
        "kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec: {containers: [{name: a}]}",
        "kind: Pod\napiVersion: v1\nmetadata: {name: X_Y}\nspec: {containers: [{name: a, image: b}]}",
        "{{{", "kind: [", "metadata: 3"}) {
    auto pod = staticPodFromManifest(text, "/m/bad.yaml", "n1");
    ASSERT_FALSE(pod.ok()) << text;
    EXPECT_EQ(pod.status().code(), 400);
    EXPECT_NE(pod.status().message().find("/m/bad.yaml"), std::string::npos);
  }
  auto json = staticPodFromManifest(
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"j","namespace":"kube-system"},
          "spec":{"containers":[{"name":"a","image":"b"}]}})",
      "/m/j.json", "n1");
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_EQ(str(*obj(*json, "metadata"), "namespace"), "kube-system");
}

TEST(StaticPods, MirrorIsOwnedByTheNodeAndCarriesTheHash) {
  auto pod = staticPodFromManifest(kWeb, "/m/web.yaml", "n1");
  ASSERT_TRUE(pod.ok());
  auto mirror = mirrorPodFor(*pod, "node-uid");
  const auto& meta = *obj(mirror, "metadata");
  EXPECT_FALSE(meta.contains("uid"));
  EXPECT_EQ(mirrorHashOf(mirror), str(*obj(*pod, "metadata"), "uid"));
  EXPECT_EQ(mirrorHashOf(*pod), "");
  const auto& owner = arr(meta, "ownerReferences")->at(0).as_object();
  EXPECT_EQ(str(owner, "kind"), "Node");
  EXPECT_EQ(str(owner, "name"), "n1");
  EXPECT_EQ(str(owner, "uid"), "node-uid");
  EXPECT_TRUE(boolField(owner, "controller", false));
}

TEST(StaticPods, SourceReportsAddedChangedAndRemoved) {
  fs::path dir = fs::temp_directory_path() / ("berth-static-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  StaticPodSource source(dir.string(), "n1");
  EXPECT_TRUE(source.rescan().empty());
  std::ofstream(dir / "web.yaml") << kWeb;
  std::ofstream(dir / ".web.yaml.swp") << "junk";
  EXPECT_EQ(source.rescan(), std::vector<std::string>{"default/web-n1"});
  EXPECT_TRUE(source.rescan().empty());
  auto first = source.get("default/web-n1");
  ASSERT_TRUE(first);
  std::ofstream(dir / "web.yaml") << kWeb << "      args: [x]\n";
  EXPECT_EQ(source.rescan(), std::vector<std::string>{"default/web-n1"});
  EXPECT_NE(source.get("default/web-n1")->hash, first->hash);
  // A file that stops parsing keeps the last good pod.
  auto good = source.get("default/web-n1")->hash;
  std::ofstream(dir / "web.yaml") << "kind: [";
  EXPECT_TRUE(source.rescan().empty());
  EXPECT_EQ(source.get("default/web-n1")->hash, good);
  fs::remove(dir / "web.yaml");
  EXPECT_EQ(source.rescan(), std::vector<std::string>{"default/web-n1"});
  EXPECT_FALSE(source.get("default/web-n1"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace berth::kubelet
