#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

json::array finalizersOf(Request& rq) {
  const auto* meta = rq.obj.if_contains("metadata");
  const auto* f = meta ? meta->as_object().if_contains("finalizers") : nullptr;
  return f ? f->as_array() : json::array{};
}

TEST(StorageObjectInUseProtection, AddsTheFinalizerOnCreateOnly) {
  auto plugin = newStorageObjectInUseProtection();
  Request pvc(type("", "persistentvolumeclaims"), "d",
              parse(R"({"metadata":{"name":"c","finalizers":["example.com/keep"]},"spec":{}})"));
  ASSERT_TRUE(plugin->admit(pvc.a).ok());
  EXPECT_EQ(finalizersOf(pvc),
            json::parse(R"(["example.com/keep","kubernetes.io/pvc-protection"])"));
  // Admitting again (a retried create) does not add it twice.
  ASSERT_TRUE(plugin->admit(pvc.a).ok());
  EXPECT_EQ(finalizersOf(pvc).size(), 2u);

  Request pv(type("", "persistentvolumes"), "", parse(R"({"metadata":{"name":"v"},"spec":{}})"));
  ASSERT_TRUE(plugin->admit(pv.a).ok());
  EXPECT_EQ(finalizersOf(pv), json::parse(R"(["kubernetes.io/pv-protection"])"));

  // Updates, status writes and other kinds are left alone.
  auto old = parse(R"({"metadata":{"name":"c"},"spec":{}})");
  Request update(type("", "persistentvolumeclaims"), "d", parse(R"({"metadata":{"name":"c"}})"),
                 &old);
  ASSERT_TRUE(plugin->admit(update.a).ok());
  EXPECT_TRUE(finalizersOf(update).empty());
  Request status(type("", "persistentvolumes"), "", parse(R"({"metadata":{"name":"v"}})"), nullptr,
                 "status");
  ASSERT_TRUE(plugin->admit(status.a).ok());
  EXPECT_TRUE(finalizersOf(status).empty());
  Request pod(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{}})"));
  ASSERT_TRUE(plugin->admit(pod.a).ok());
  EXPECT_TRUE(finalizersOf(pod).empty());
}

}  // namespace
}  // namespace berth::apiserver::admission
