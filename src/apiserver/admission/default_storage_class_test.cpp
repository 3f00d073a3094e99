#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

json::object storageClass(const char* name, const char* created, bool isDefault) {
  auto o = parse(R"({"metadata":{"name":""},"provisioner":"rancher.io/local-path"})");
  auto& meta = o["metadata"].as_object();
  meta["name"] = name;
  meta["creationTimestamp"] = created;
  if (isDefault)
    meta["annotations"] = json::object{{"storageclass.kubernetes.io/is-default-class", "true"}};
  return o;
}

std::string classOf(Request& rq) {
  const auto& spec = rq.obj["spec"].as_object();
  return spec.contains("storageClassName") ? std::string(spec.at("storageClassName").as_string())
                                           : "<unset>";
}

TEST(DefaultStorageClass, FillsTheNewestDefaultOnlyWhenUnset) {
  FakeReader reader;
  auto plugin = newDefaultStorageClass(reader);
  const char* claim = R"({"metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"]}})";
  Request none(type("", "persistentvolumeclaims"), "d", parse(claim));
  ASSERT_TRUE(plugin->admit(none.a).ok());
  EXPECT_EQ(classOf(none), "<unset>");  // no default class: left alone

  reader.add("storageclasses", storageClass("slow", "2026-01-01T00:00:00Z", false),
             "storage.k8s.io");
  reader.add("storageclasses", storageClass("a", "2026-01-02T00:00:00Z", true), "storage.k8s.io");
  reader.add("storageclasses", storageClass("b", "2026-01-03T00:00:00Z", true), "storage.k8s.io");
  Request rq(type("", "persistentvolumeclaims"), "d", parse(claim));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  EXPECT_EQ(classOf(rq), "b");

  Request empty(type("", "persistentvolumeclaims"), "d",
                parse(R"({"metadata":{"name":"c"},"spec":{"storageClassName":""}})"));
  ASSERT_TRUE(plugin->admit(empty.a).ok());
  EXPECT_EQ(classOf(empty), "");  // "" asks for no class at all
  Request named(type("", "persistentvolumeclaims"), "d",
                parse(R"({"metadata":{"name":"c"},"spec":{"storageClassName":"slow"}})"));
  ASSERT_TRUE(plugin->admit(named.a).ok());
  EXPECT_EQ(classOf(named), "slow");
  Request beta(type("", "persistentvolumeclaims"), "d",
               parse(R"({"metadata":{"name":"c","annotations":{
                 "volume.beta.kubernetes.io/storage-class":"slow"}},"spec":{}})"));
  ASSERT_TRUE(plugin->admit(beta.a).ok());
  EXPECT_EQ(classOf(beta), "<unset>");
  auto old = parse(claim);
  Request update(type("", "persistentvolumeclaims"), "d", parse(claim), &old);
  ASSERT_TRUE(plugin->admit(update.a).ok());
  EXPECT_EQ(classOf(update), "<unset>");  // only creates are defaulted
}

}  // namespace
}  // namespace berth::apiserver::admission
