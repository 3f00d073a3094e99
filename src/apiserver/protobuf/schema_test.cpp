#include "apiserver/protobuf/schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "core/resources.h"

namespace berth::apiserver::protobuf {
namespace {

TEST(Schema, FieldNumbersFromUpstream) {
  const MessageSchema* deploy = findMessage("k8s.io.api.apps.v1.DeploymentSpec");
  ASSERT_NE(deploy, nullptr);
  const FieldSchema* replicas = deploy->byNumber(1);
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->jsonName, "replicas");
  EXPECT_EQ(replicas->type, FieldType::kInt32);
  EXPECT_TRUE(replicas->keepZero);  // *int32 in Go
  EXPECT_EQ(deploy->byNumber(9)->jsonName, "progressDeadlineSeconds");
  EXPECT_EQ(deploy->byNumber(8), nullptr);                        // retired rollbackTo
  EXPECT_FALSE(deploy->byJsonName("minReadySeconds")->keepZero);  // int32 omitempty

  const MessageSchema* meta = findMessage("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->byJsonName("labels")->type, FieldType::kMap);
  EXPECT_EQ(meta->byJsonName("managedFields")->number, 17);
  EXPECT_TRUE(meta->byJsonName("managedFields")->repeated);

  const MessageSchema* port = findMessage("k8s.io.api.core.v1.ServicePort");
  EXPECT_TRUE(port->byJsonName("port")->keepZero);  // `json:"port"`, no omitempty
  EXPECT_EQ(port->byJsonName("targetPort")->messageType,
            "k8s.io.apimachinery.pkg.util.intstr.IntOrString");
  EXPECT_TRUE(isSpecial(port->byJsonName("targetPort")->messageType));

  const MessageSchema* rq = findMessage("k8s.io.api.core.v1.ResourceQuotaSpec");
  EXPECT_EQ(rq->byJsonName("hard")->mapValueType, FieldType::kMessage);
  EXPECT_EQ(rq->byJsonName("hard")->messageType, "k8s.io.apimachinery.pkg.api.resource.Quantity");
}

TEST(Schema, GoJsonNameWinsOverProtoName) {
  // The proto field is `aPIGroup`; Go's JSON tag is `apiGroup`.
  const MessageSchema* m = findMessage("k8s.io.api.networking.v1.IngressClassParametersReference");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->byNumber(1)->jsonName, "apiGroup");
}

TEST(Schema, InlinedFieldsResolveByJsonName) {
  const MessageSchema* volume = findMessage("k8s.io.api.core.v1.Volume");
  ASSERT_NE(volume, nullptr);
  EXPECT_TRUE(volume->byNumber(2)->inlined);
  const FieldSchema* emptyDir = volume->byJsonName("emptyDir");
  ASSERT_NE(emptyDir, nullptr);
  EXPECT_TRUE(emptyDir->keepZero);  // *EmptyDirVolumeSource: {} is meaningful
  EXPECT_EQ(volume->byJsonName("volumeSource"), nullptr);
}

TEST(Schema, TableIsSortedAndResolvable) {
  auto all = allMessages();
  ASSERT_GT(all.size(), 300u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].name, all[i].name);
  for (const auto& m : all) {
    for (std::size_t i = 0; i < m.fields.size(); ++i) {
      if (i > 0) EXPECT_LT(m.fields[i - 1].number, m.fields[i].number) << m.name;
      if (!m.fields[i].messageType.empty()) {
        EXPECT_NE(findMessage(m.fields[i].messageType), nullptr) << m.fields[i].messageType;
      }
    }
  }
}

TEST(Schema, EveryServedKindHasAMessage) {
  for (const auto& rt : core::allResources()) {
    if (rt.virtualResource) continue;  // self-reviews: answered, never decoded or stored
    const MessageSchema* m = messageForKind(rt.apiVersion(), rt.kind);
    ASSERT_NE(m, nullptr) << rt.apiVersion() << " " << rt.kind;
    EXPECT_TRUE(m->isKind);
    EXPECT_NE(messageForKind(rt.apiVersion(), rt.listKind()), nullptr) << rt.listKind();
  }
  EXPECT_EQ(messageForKind("autoscaling/v1", "Scale")->name, "k8s.io.api.autoscaling.v1.Scale");
  EXPECT_EQ(messageForKind("policy/v1", "Eviction")->name, "k8s.io.api.policy.v1.Eviction");
  EXPECT_EQ(messageForKind("v1", "DeleteOptions")->name,
            "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions");
  EXPECT_EQ(messageForKind("v1", "Binding")->name, "k8s.io.api.core.v1.Binding");
  EXPECT_EQ(messageForKind("v1", "Container"), nullptr);
  EXPECT_EQ(messageForKind("v2", "Pod"), nullptr);
  EXPECT_EQ(messageForKind("example.com/v1", "Pod"), nullptr);
}

TEST(Schema, UnknownFieldPaths) {
  auto obj = boost::json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"x","labelz":{}},
    "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"a","image":"i"},
      {"name":"b","imagex":"i","ports":[{"containerPort":1,"bogus":2}]}],
      "volumes":[{"name":"v","emptyDir":{"medium":"","size":1}}]}}},
    "extra":true})");
  auto unknown = unknownFields("k8s.io.api.apps.v1.Deployment", obj);
  std::vector<std::string> want = {"metadata.labelz", "spec.template.spec.containers[1].imagex",
                                   "spec.template.spec.containers[1].ports[0].bogus",
                                   "spec.template.spec.volumes[0].emptyDir.size", "extra"};
  std::sort(unknown.begin(), unknown.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(unknown, want);
}

TEST(Schema, UnknownFieldsInMapValuesOfMessages) {
  // map<string, string> values are free-form; map<string, Quantity> values are special.
  auto obj = boost::json::parse(R"({"metadata":{"labels":{"anything":"x"}},
    "spec":{"hard":{"cpu":"1"}}})");
  EXPECT_TRUE(unknownFields("k8s.io.api.core.v1.ResourceQuota", obj).empty());
}

}  // namespace
}  // namespace berth::apiserver::protobuf
