#include "apiserver/protobuf/zero_values.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/schema.h"
#include "core/resources.h"

namespace berth::apiserver::protobuf {
namespace {

namespace json = boost::json;

json::object filled(std::string_view text) {
  json::object o = json::parse(text).as_object();
  EXPECT_TRUE(addGoZeroValues(o)) << text;
  return o;
}

json::value at(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (auto k : path) {
    v = cur->if_contains(k);
    if (v == nullptr) return json::value("<missing>");
    if (v->is_object()) cur = &v->as_object();
  }
  return *v;
}

TEST(ZeroValues, DaemonSetStatusReadsAsGoWritesIt) {
  auto ds = filled(R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d"}})");
  EXPECT_EQ(json::serialize(ds.at("status")),
            R"({"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,)"
            R"("numberReady":0})");
  // A template's ObjectMeta is a struct: its zero creationTimestamp is null.
  EXPECT_TRUE(at(ds, {"spec", "template", "metadata", "creationTimestamp"}).is_null());
  EXPECT_EQ(at(ds, {"spec", "updateStrategy"}), json::object());
  // Pointers stay out: *int32 revisionHistoryLimit, *LabelSelector selector.
  EXPECT_EQ(at(ds, {"spec", "revisionHistoryLimit"}), json::value("<missing>"));
  EXPECT_EQ(at(ds, {"spec", "selector"}), json::value("<missing>"));
}

TEST(ZeroValues, ReplicaCountsOfWorkloads) {
  EXPECT_EQ(at(filled(R"({"apiVersion":"apps/v1","kind":"ReplicaSet"})"), {"status", "replicas"}),
            json::value(0));
  EXPECT_EQ(
      at(filled(R"({"apiVersion":"v1","kind":"ReplicationController"})"), {"status", "replicas"}),
      json::value(0));
  auto sts = filled(R"({"apiVersion":"apps/v1","kind":"StatefulSet"})");
  EXPECT_EQ(at(sts, {"status", "replicas"}), json::value(0));
  EXPECT_EQ(at(sts, {"status", "availableReplicas"}), json::value(0));
  EXPECT_EQ(at(sts, {"spec", "serviceName"}), json::value(""));  // `json:"serviceName"` in 1.32
  EXPECT_EQ(at(sts, {"spec", "podManagementPolicy"}), json::value("<missing>"));  // omitempty
  auto pdb = filled(R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget"})");
  for (auto f : {"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"})
    EXPECT_EQ(at(pdb, {"status", f}), json::value(0)) << f;
  auto hpa = filled(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler"})");
  EXPECT_EQ(at(hpa, {"status", "desiredReplicas"}), json::value(0));
  EXPECT_EQ(at(hpa, {"spec", "maxReplicas"}), json::value(0));
  EXPECT_EQ(at(filled(R"({"apiVersion":"apps/v1","kind":"Deployment"})"), {"status"}),
            json::object());  // every DeploymentStatus field is omitempty
}

TEST(ZeroValues, NestedListsAndMapsAreWalked) {
  auto pod = filled(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
      "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]},
      "status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  const auto& c = pod.at("spec").at("containers").at(0).as_object();
  EXPECT_EQ(c.at("resources"), json::object());
  EXPECT_EQ(c.at("ports").at(0).at("containerPort"), json::value(80));
  EXPECT_TRUE(pod.at("status").at("conditions").at(0).at("lastProbeTime").is_null());
  auto svc = filled(R"({"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80}]}})");
  EXPECT_EQ(at(svc, {"status", "loadBalancer"}), json::object());
  // IntOrString without omitempty: 0; non-omitempty nil slices stay out (Go writes null).
  EXPECT_EQ(svc.at("spec").at("ports").at(0).at("targetPort"), json::value(0));
  auto ev = filled(R"({"apiVersion":"v1","kind":"Event","involvedObject":{"kind":"Pod"}})");
  EXPECT_EQ(ev.at("reportingComponent"), json::value(""));
  EXPECT_TRUE(ev.at("eventTime").is_null());
  EXPECT_EQ(ev.at("source"), json::object());
}

TEST(ZeroValues, PresentValuesAreKeptAndFillingIsIdempotent) {
  auto ds = filled(R"({"apiVersion":"apps/v1","kind":"DaemonSet","status":{"numberReady":3}})");
  EXPECT_EQ(at(ds, {"status", "numberReady"}), json::value(3));
  json::object again = ds;
  addGoZeroValues(again);
  EXPECT_EQ(again, ds);
  // A null struct decodes to the zero struct in Go.
  auto rs = filled(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","status":null})");
  EXPECT_EQ(at(rs, {"status", "replicas"}), json::value(0));
  json::object unknown = json::parse(R"({"apiVersion":"x/v1","kind":"Nope"})").as_object();
  EXPECT_FALSE(addGoZeroValues(unknown));
  EXPECT_EQ(unknown.size(), 2u);
}

// Every scalar field the schema says Go writes is present in every message object of the result.
void expectComplete(const MessageSchema& schema, const json::object& obj, const std::string& path,
                    int depth, int& checked) {
  if (depth > 40) return;
  for (const auto& f : schema.fields) {
    const MessageSchema* sub =
        f.messageType.empty() || isSpecial(f.messageType) ? nullptr : findMessage(f.messageType);
    if (f.inlined) {
      if (sub && !f.repeated) expectComplete(*sub, obj, path, depth + 1, checked);
      continue;
    }
    const json::value* v = obj.if_contains(f.jsonName);
    bool scalarOrStruct = !f.repeated && f.type != FieldType::kMap && f.type != FieldType::kBytes;
    if (f.emitZero && scalarOrStruct && (sub || f.type != FieldType::kMessage)) {
      ++checked;
      EXPECT_NE(v, nullptr) << path << "." << f.jsonName;
    }
    if (v && sub && v->is_object() && !f.repeated && f.type == FieldType::kMessage)
      expectComplete(*sub, v->as_object(), path + "." + std::string(f.jsonName), depth + 1,
                     checked);
  }
}

TEST(ZeroValues, EveryServedKindMatchesItsSchema) {
  int kinds = 0, checked = 0;
  for (const auto& rt : core::allResources()) {
    const MessageSchema* schema = messageForKind(rt.apiVersion(), rt.kind);
    if (schema == nullptr) continue;  // virtual or not in the table (reviews, CRDs)
    ++kinds;
    json::object o{{"apiVersion", rt.apiVersion()},
                   {"kind", rt.kind},
                   {"metadata", json::object{{"name", "x"}}}};
    ASSERT_TRUE(addGoZeroValues(o)) << rt.kind;
    expectComplete(*schema, o, rt.apiVersion() + "/" + rt.kind, 0, checked);
    // The result still encodes and decodes as protobuf (nulls for zero Times included).
    auto pb = encodeEnvelope(o);
    ASSERT_TRUE(pb.ok()) << rt.kind << ": " << pb.status().message();
    auto back = decodeEnvelope(*pb);
    ASSERT_TRUE(back.ok()) << rt.kind << ": " << back.status().message();
  }
  EXPECT_GE(kinds, 30);
  EXPECT_GE(checked, 100);
}

}  // namespace
}  // namespace berth::apiserver::protobuf
