// StatefulSet templates may mount their volumeClaimTemplates by name (each pod gets a volume of
// that name from the controller); mounts of unknown volumes are still rejected.
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

std::string sts(const std::string& mountName) {
  return R"({"metadata":{"name":"web","namespace":"default"},"spec":{"serviceName":"web",
    "selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},
      "spec":{"containers":[{"name":"c","image":"i","volumeMounts":[{"name":")" +
         mountName + R"(","mountPath":"/d"}]}]}},
    "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],
      "resources":{"requests":{"storage":"1Gi"}}}}]}})";
}

TEST(StatefulSetClaims, MountsOfClaimTemplatesAreValid) {
  const auto& rt = resource("apps", "v1", "statefulsets");
  auto ok = parse(sts("data").c_str());
  EXPECT_VALID(create(rt, ok));
  EXPECT_FALSE(at(ok, "spec.template.spec").as_object().contains("volumes"));  // not stored
  auto bad = parse(sts("other").c_str());
  EXPECT_CAUSE(create(rt, bad), "spec.template.spec.containers[0].volumeMounts[0].name",
               "FieldValueNotFound", "");
}

}  // namespace
}  // namespace berth::core::kinds
