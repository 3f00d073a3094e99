#include "apiserver/patch/apply.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "apiserver/patch/fieldset.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;

json::object J(std::string_view text) { return json::parse(text).as_object(); }

const core::ResourceType& deployments() {
  const core::ResourceType* rt = core::findResource("apps", "v1", "deployments");
  EXPECT_NE(rt, nullptr);
  return *rt;
}

ApplyOptions opts(std::string manager, bool force = false,
                  std::string time = "2024-01-01T00:00:00Z") {
  return ApplyOptions{std::move(manager), force, std::move(time), ""};
}

json::object mustApply(const json::object* live, const json::object& applied,
                       const ApplyOptions& options) {
  auto r = serverSideApply(live, applied, deployments(), options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : json::object();
}

const json::array& managedFields(const json::object& obj) {
  return obj.at("metadata").at("managedFields").as_array();
}

const json::object* entryFor(const json::object& obj, std::string_view manager,
                             std::string_view operation) {
  for (const auto& e : managedFields(obj)) {
    if (e.at("manager").as_string() == manager && e.at("operation").as_string() == operation) {
      return &e.as_object();
    }
  }
  return nullptr;
}

const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"d","namespace":"default","labels":{"app":"x"}},
  "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}})";

TEST(ServerSideApplyTest, CreateRecordsFieldsV1) {
  auto out = mustApply(nullptr, J(kDeployment), opts("kubectl"));
  EXPECT_EQ(out.at("spec").at("replicas"), 1);
  ASSERT_EQ(managedFields(out).size(), 1u);
  const auto& e = managedFields(out)[0].as_object();
  EXPECT_EQ(e.at("manager"), "kubectl");
  EXPECT_EQ(e.at("operation"), "Apply");
  EXPECT_EQ(e.at("apiVersion"), "apps/v1");
  EXPECT_EQ(e.at("time"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(e.at("fieldsType"), "FieldsV1");
  EXPECT_EQ(e.at("fieldsV1"), json::parse(R"({"f:metadata":{"f:labels":{"f:app":{}}},
      "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{
        "k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{}}}}}}})"));
}

TEST(ServerSideApplyTest, RequiresManager) {
  auto r = serverSideApply(nullptr, J(kDeployment), deployments(), opts(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 400);
}

// A deployment created by kubectl client-side apply (an Update by kubectl-client-side-apply).
json::object createdByClientSideApply() {
  json::object obj = J(kDeployment);
  obj["metadata"].as_object()["uid"] = "u1";
  obj["status"] = json::object{{"replicas", 1}};
  recordUpdate(obj, nullptr, deployments(), "kubectl-client-side-apply", "2023-12-31T00:00:00Z");
  return obj;
}

TEST(ServerSideApplyTest, ConflictWithUpstreamMessage) {
  json::object live = createdByClientSideApply();
  json::object applied = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"d"},"spec":{"replicas":3}})");
  std::vector<core::StatusCause> causes;
  auto r = serverSideApply(&live, applied, deployments(), opts("mgr"), &causes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 409);
  EXPECT_EQ(r.status().reason(), "Conflict");
  EXPECT_EQ(r.status().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
            "apps/v1: .spec.replicas");
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldManagerConflict");
  EXPECT_EQ(causes[0].message, "conflict with \"kubectl-client-side-apply\" using apps/v1");
  EXPECT_EQ(causes[0].field, ".spec.replicas");

  auto status = statusJsonWithCauses(r.status(), causes);
  EXPECT_EQ(status.at("code"), 409);
  EXPECT_EQ(status.at("details").at("causes").at(0).at("field"), ".spec.replicas");

  // Same value: no conflict, ownership is shared.
  applied["spec"].as_object()["replicas"] = 1;
  auto shared = mustApply(&live, applied, opts("mgr"));
  internal::FieldSet mine =
      internal::FieldSet::fromFieldsV1(entryFor(shared, "mgr", "Apply")->at("fieldsV1"));
  internal::FieldSet theirs = internal::FieldSet::fromFieldsV1(
      entryFor(shared, "kubectl-client-side-apply", "Update")->at("fieldsV1"));
  EXPECT_TRUE(mine.contains({"f:spec", "f:replicas"}));
  EXPECT_TRUE(theirs.contains({"f:spec", "f:replicas"}));
}

TEST(ServerSideApplyTest, ForceTakesOwnership) {
  json::object live = createdByClientSideApply();
  json::object applied = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"d"},"spec":{"replicas":3}})");
  auto out = mustApply(&live, applied, opts("mgr", true));
  EXPECT_EQ(out.at("spec").at("replicas"), 3);
  EXPECT_EQ(out.at("status"), live.at("status"));  // status is not applied
  EXPECT_EQ(out.at("metadata").at("uid"), "u1");
  auto theirs = internal::FieldSet::fromFieldsV1(
      entryFor(out, "kubectl-client-side-apply", "Update")->at("fieldsV1"));
  EXPECT_FALSE(theirs.contains({"f:spec", "f:replicas"}));
  EXPECT_TRUE(theirs.contains({"f:metadata", "f:labels", "f:app"}));
  // Apply entries sort before Update entries.
  EXPECT_EQ(managedFields(out)[0].at("operation"), "Apply");
}

TEST(ServerSideApplyTest, MultipleConflictsMessage) {
  json::object live = createdByClientSideApply();
  json::object applied = J(R"({"metadata":{"name":"d","labels":{"app":"y"}},
      "spec":{"replicas":3}})");
  auto r = serverSideApply(&live, applied, deployments(), opts("mgr"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using "
            "apps/v1:\n- .metadata.labels.app\n- .spec.replicas");
}

TEST(ServerSideApplyTest, ReapplyWithoutFieldRemovesIt) {
  json::object first = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"d","labels":{"app":"x","tier":"web"}},
      "spec":{"replicas":2,"template":{"spec":{"containers":[
        {"name":"a","image":"i"},{"name":"b","image":"j"}]}}}})");
  auto live = mustApply(nullptr, first, opts("mgr"));
  json::object second = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"d","labels":{"app":"x"}},
      "spec":{"template":{"spec":{"containers":[{"name":"a","image":"i2"}]}}}})");
  auto out = mustApply(&live, second, opts("mgr"));
  EXPECT_EQ(out.at("metadata").at("labels"), json::parse(R"({"app":"x"})"));
  EXPECT_FALSE(out.at("spec").as_object().contains("replicas"));
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers"),
            json::parse(R"([{"name":"a","image":"i2"}])"));
  ASSERT_EQ(managedFields(out).size(), 1u);

  // A field another manager also owns stays when the applier drops it.
  auto third = mustApply(&out, J(R"({"metadata":{"name":"d","labels":{"app":"x","tier":"t"}}})"),
                         opts("other"));
  auto fourth = mustApply(&third, second, opts("mgr"));
  EXPECT_EQ(fourth.at("metadata").at("labels").at("tier"), "t");
}

TEST(ServerSideApplyTest, ManagersOwnDisjointContainerFields) {
  auto live = mustApply(nullptr, J(kDeployment), opts("mgr"));
  // `kubectl set image` is an Update by another manager that takes the image.
  json::object updated = live;
  updated["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"] =
      json::parse(R"([{"name":"c","image":"i2"}])");
  recordUpdate(updated, &live, deployments(), "kubectl-set", "2024-01-02T00:00:00Z");
  auto setter =
      internal::FieldSet::fromFieldsV1(entryFor(updated, "kubectl-set", "Update")->at("fieldsV1"));
  internal::FieldPath image{"f:spec",       "f:template",         "f:spec",
                            "f:containers", "k:{\"name\":\"c\"}", "f:image"};
  EXPECT_TRUE(setter.contains(image));
  EXPECT_EQ(entryFor(updated, "kubectl-set", "Update")->at("time"), "2024-01-02T00:00:00Z");
  auto applier =
      internal::FieldSet::fromFieldsV1(entryFor(updated, "mgr", "Apply")->at("fieldsV1"));
  EXPECT_FALSE(applier.contains(image));

  // Re-applying the old image now conflicts with kubectl-set.
  std::vector<core::StatusCause> causes;
  auto r = serverSideApply(&updated, J(kDeployment), deployments(), opts("mgr"), &causes);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, ".spec.template.spec.containers[name=\"c\"].image");
}

TEST(RecordUpdateTest, TracksChangesPerManager) {
  json::object obj = J(kDeployment);
  obj["metadata"].as_object()["resourceVersion"] = "5";
  obj["status"] = json::object{{"replicas", 0}};
  recordUpdate(obj, nullptr, deployments(), "kubectl-create", "t1");
  ASSERT_EQ(managedFields(obj).size(), 1u);
  auto created = internal::FieldSet::fromFieldsV1(managedFields(obj)[0].at("fieldsV1"));
  EXPECT_TRUE(created.contains({"f:spec", "f:replicas"}));
  EXPECT_FALSE(created.containsAnyUnder({"f:status"}));
  EXPECT_FALSE(created.containsAnyUnder({"f:metadata", "f:resourceVersion"}));
  EXPECT_FALSE(created.containsAnyUnder({"f:metadata", "f:name"}));
  EXPECT_FALSE(created.containsAnyUnder({"f:apiVersion"}));

  // The status subresource records only status, with "subresource":"status".
  json::object withStatus = obj;
  withStatus["status"].as_object()["replicas"] = 1;
  recordUpdate(withStatus, &obj, deployments(), "controller", "t2", "status");
  const json::object* status = entryFor(withStatus, "controller", "Update");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->at("subresource"), "status");
  EXPECT_EQ(status->at("fieldsV1"), json::parse(R"({"f:status":{"f:replicas":{}}})"));

  // An update that changes nothing adds no entry; `managedFields: []` clears them.
  json::object same = withStatus;
  recordUpdate(same, &withStatus, deployments(), "noop", "t3");
  EXPECT_EQ(entryFor(same, "noop", "Update"), nullptr);
  same["metadata"].as_object()["managedFields"] = json::array();
  recordUpdate(same, &withStatus, deployments(), "resetter", "t4");
  EXPECT_FALSE(same.at("metadata").as_object().contains("managedFields"));
}

TEST(FieldSetTest, FinalizersAreSetMembersAndRoundTrip) {
  auto obj = J(R"({"metadata":{"finalizers":["a","b"],"ownerReferences":[{"uid":"u","kind":"X"}]},
                  "spec":{"template":{"metadata":{"creationTimestamp":null}},"strategy":{}}})");
  auto set = internal::FieldSet::fromObject(obj, deployments());
  auto encoded = set.toFieldsV1();
  EXPECT_EQ(encoded, json::parse(R"({"f:metadata":{"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}},
      "f:ownerReferences":{"k:{\"uid\":\"u\"}":{".":{},"f:kind":{},"f:uid":{}}}},
      "f:spec":{"f:strategy":{},"f:template":{"f:metadata":{"f:creationTimestamp":{}}}}})"));
  auto decoded = internal::FieldSet::fromFieldsV1(encoded);
  EXPECT_EQ(decoded.toFieldsV1(), encoded);
  EXPECT_EQ(decoded.paths().size(), set.paths().size());
  EXPECT_EQ(internal::pathString({"f:metadata", "f:finalizers", "v:\"a\""}),
            ".metadata.finalizers[=\"a\"]");
}

TEST(RecordUpdateTest, MergesDuplicateEntriesAndSorts) {
  json::object obj = J(R"({"metadata":{"name":"d","labels":{"a":"1","b":"2"},"managedFields":[
      {"manager":"z","operation":"Update","apiVersion":"apps/v1","time":"t1","fieldsType":"FieldsV1",
       "fieldsV1":{"f:metadata":{"f:labels":{"f:a":{}}}}},
      {"manager":"z","operation":"Update","apiVersion":"apps/v1","time":"t2","fieldsType":"FieldsV1",
       "fieldsV1":{"f:metadata":{"f:labels":{"f:b":{}}}}},
      {"manager":"a","operation":"Apply","apiVersion":"apps/v1","time":"t3","fieldsType":"FieldsV1",
       "fieldsV1":{"f:metadata":{"f:labels":{"f:b":{}}}}}]}})");
  json::object old = obj;
  recordUpdate(obj, &old, deployments(), "z", "t9");
  const auto& entries = managedFields(obj);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("manager"), "a");  // Apply sorts before Update
  EXPECT_EQ(entries[1].at("fieldsV1"),
            json::parse(R"({"f:metadata":{"f:labels":{"f:a":{},"f:b":{}}}})"));
  EXPECT_EQ(entries[1].at("time"), "t2");  // nothing changed, the timestamp stays
}

// ---- property tests ----

json::object randomConfig(std::mt19937& rng) {
  static const char* kImages[] = {"a", "b"};
  json::object obj = J(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}})");
  json::object labels;
  for (const char* k : {"x", "y", "z"}) {
    if (rng() % 2) labels[k] = kImages[rng() % 2];
  }
  if (!labels.empty()) obj["metadata"].as_object()["labels"] = labels;
  json::object spec;
  if (rng() % 2) spec["replicas"] = rng() % 3;
  json::array containers;
  for (const char* name : {"c1", "c2", "c3"}) {
    if (rng() % 2 == 0) continue;
    json::object c{{"name", name}};
    if (rng() % 2) c["image"] = kImages[rng() % 2];
    if (rng() % 3 == 0) c["ports"] = json::array{json::object{{"containerPort", rng() % 2 + 80}}};
    if (rng() % 4 == 0) c["args"] = json::array{"x", rng() % 2 ? "y" : "z"};
    containers.push_back(std::move(c));
  }
  if (!containers.empty()) {
    spec["template"] = json::object{{"spec", json::object{{"containers", containers}}}};
  }
  if (rng() % 5 == 0)
    obj["metadata"].as_object()["finalizers"] = json::array{"f", kImages[rng() % 2]};
  if (!spec.empty()) obj["spec"] = spec;
  return obj;
}

TEST(ServerSideApplyPropertyTest, RandomAppliesAreIdempotentAndNeverCrash) {
  std::mt19937 rng(8080);
  static const char* kManagers[] = {"m1", "m2", "m3"};
  int applied = 0, conflicted = 0;
  for (int iter = 0; iter < 300; ++iter) {
    json::object live;
    bool exists = false;
    for (int step = 0; step < 6; ++step) {
      json::object config = randomConfig(rng);
      ApplyOptions o = opts(kManagers[rng() % 3], rng() % 2 == 0, "t" + std::to_string(step));
      if (rng() % 4 == 0) {
        // An Update by some manager in between.
        json::object updated = exists ? live : json::object();
        updated["spec"] = config.contains("spec") ? config["spec"] : json::object();
        recordUpdate(updated, exists ? &live : nullptr, deployments(), "updater", o.time);
        live = std::move(updated);
        exists = true;
        continue;
      }
      auto r = serverSideApply(exists ? &live : nullptr, config, deployments(), o);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), 409);
        EXPECT_FALSE(o.force);
        ++conflicted;
        continue;
      }
      // Applying the same configuration again is a no-op (apart from the timestamp).
      auto again = serverSideApply(&r.value(), config, deployments(), o);
      ASSERT_TRUE(again.ok()) << again.status().message();
      EXPECT_EQ(again.value(), r.value()) << json::serialize(config);
      // Every field the applier names has the applied value.
      auto set = internal::FieldSet::fromObject(config, deployments());
      set.forEach([&](const internal::FieldPath& p) {
        if (!set.isLeaf(p) || p.empty() || p[0] == "f:apiVersion" || p[0] == "f:kind") return;
        const json::value* want = internal::valueAt(config, p);
        const json::value* have = internal::valueAt(r.value(), p);
        ASSERT_NE(have, nullptr) << internal::pathString(p);
        EXPECT_EQ(*have, *want) << internal::pathString(p);
      });
      live = std::move(r).value();
      exists = true;
      ++applied;
    }
  }
  // Both outcomes are exercised.
  EXPECT_GT(applied, 300);
  EXPECT_GT(conflicted, 50);
}

// A create's managedFields come from the object directly (created_fields.cpp); they must equal
// what the general diff against an empty object records, for every shape of list and field.
TEST(RecordUpdateTest, CreateFieldsEqualTheGeneralPath) {
  const core::ResourceType* pods = core::findResource("", "v1", "pods");
  const core::ResourceType* services = core::findResource("", "v1", "services");
  struct Case {
    const core::ResourceType* rt;
    const char* object;
  };
  const Case cases[] = {
      {pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"d",
        "uid":"u","labels":{"app":"web","b":""},"annotations":{},"finalizers":["x/y","a/b"]},
        "spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80,
        "protocol":"TCP"}],"env":[{"name":"A","value":"1"}],"volumeMounts":[{"name":"v",
        "mountPath":"/m"}],"resources":{}}],"volumes":[{"name":"v","projected":{"sources":[
        {"serviceAccountToken":{"path":"token"}},{"configMap":{"name":"x"}}]}}],
        "tolerations":[{"key":"k","operator":"Exists"}],"dnsPolicy":"ClusterFirst"},
        "status":{"phase":"Pending"}})"},
      {&deployments(), R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
        "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":
        {"labels":{"app":"web"}},"spec":{"containers":[{"name":"b","image":"x"},
        {"name":"a","image":"y"}]}}}})"},
      {services, R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{
        "ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}],"selector":{}}})"},
      // Only stripped metadata: no f:metadata at all.
      {pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u"},
        "spec":{"containers":[]}})"},
      // Two containers with one name: a FieldSet merges them (the direct path declines).
      {pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
        {"name":"c","image":"a"},{"name":"c","command":["x"]}]}})"},
  };
  for (const auto& c : cases) {
    json::object created = J(c.object), diffed = J(c.object);
    const json::object empty;
    recordUpdate(created, nullptr, *c.rt, "m", "2024-01-01T00:00:00Z");
    recordUpdate(diffed, &empty, *c.rt, "m", "2024-01-01T00:00:00Z");
    EXPECT_EQ(json::serialize(created), json::serialize(diffed)) << c.object;
    EXPECT_TRUE(created["metadata"].as_object().contains("managedFields")) << c.object;
  }
}

}  // namespace
}  // namespace berth::apiserver::patch
