// Rows of the storage, certificates, flow control and API registration kinds, cell by cell as
// upstream's printers fill them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/printers/table.h"
#include "core/resources.h"

namespace berth::apiserver::printers {
namespace {

namespace json = boost::json;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1709294400));

json::array row(const char* group, const char* plural, std::string_view text) {
  const core::ResourceType* rt = core::findResource(group, "v1", plural);
  EXPECT_NE(rt, nullptr) << plural;
  json::array cells = rowCells(*rt, json::parse(text).as_object(), kNow);
  EXPECT_EQ(cells.size(), columnDefinitions(*rt).size()) << plural;
  return cells;
}

TEST(StorageRows, PersistentVolumeAndClaim) {
  auto pv = row("", "persistentvolumes", R"({"metadata":{"name":"pv1",
      "creationTimestamp":"2024-03-01T11:00:00Z"},"spec":{"capacity":{"storage":"5Gi"},
      "accessModes":["ReadWriteMany","ReadWriteOnce","ReadWriteOnce"],
      "persistentVolumeReclaimPolicy":"Retain","storageClassName":"fast",
      "claimRef":{"namespace":"default","name":"data"}},"status":{"phase":"Bound"}})");
  EXPECT_EQ(pv, (json::array{"pv1", "5Gi", "RWO,RWX", "Retain", "Bound", "default/data", "fast",
                             "<unset>", "", "60m", "<unset>"}));
  // An unbound claim shows neither capacity nor modes; a terminating one says so.
  auto pvc = row("", "persistentvolumeclaims", R"({"metadata":{"name":"c",
      "creationTimestamp":"2024-03-01T11:59:00Z","deletionTimestamp":"2024-03-01T12:00:00Z",
      "annotations":{"volume.beta.kubernetes.io/storage-class":"old"}},"spec":{
      "accessModes":["ReadWriteOnce"],"storageClassName":"fast","volumeMode":"Block"},
      "status":{"phase":"Pending","capacity":{"storage":"1Gi"}}})");
  EXPECT_EQ(pvc, (json::array{"c", "Terminating", "", "", "", "old", "<unset>", "60s", "Block"}));
}

TEST(StorageRows, StorageClassDefaultsAndMarker) {
  auto sc = row("storage.k8s.io", "storageclasses", R"({"metadata":{"name":"std",
      "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
      "provisioner":"example.com/p"})");
  EXPECT_EQ(sc[0], "std (default)");
  EXPECT_EQ(sc[2], "Delete");
  EXPECT_EQ(sc[3], "Immediate");
  EXPECT_EQ(sc[4], false);
}

TEST(CertificateRows, ConditionSummaryAsUpstream) {
  auto pending = row("certificates.k8s.io", "certificatesigningrequests",
                     R"({"metadata":{"name":"a"},"spec":{"expirationSeconds":3600}})");
  EXPECT_EQ(pending[2], "<none>");
  EXPECT_EQ(pending[4], "60m");
  EXPECT_EQ(pending[5], "Pending");
  auto issued = row("certificates.k8s.io", "certificatesigningrequests",
                    R"({"metadata":{"name":"a"},"spec":{"signerName":"x.io/y","username":"bob"},
      "status":{"certificate":"Y2VydA==","conditions":[{"type":"Approved"},{"type":"Failed"}]}})");
  EXPECT_EQ(issued[3], "bob");
  EXPECT_EQ(issued[5], "Approved,Failed,Issued");
  auto denied = row("certificates.k8s.io", "certificatesigningrequests",
                    R"({"metadata":{"name":"a"},"status":{"conditions":[{"type":"Approved"},
      {"type":"Denied"}]}})");
  EXPECT_EQ(denied[5], "Denied");
}

TEST(RegistrationRows, ApiServiceAndPriorityLevel) {
  auto local = row("apiregistration.k8s.io", "apiservices",
                   R"({"metadata":{"name":"v1.apps"},"spec":{},"status":{"conditions":[
      {"type":"Available","status":"True","reason":"Local"}]}})");
  EXPECT_EQ(local[1], "Local");
  EXPECT_EQ(local[2], "True");
  auto remote = row("apiregistration.k8s.io", "apiservices",
                    R"({"metadata":{"name":"v1beta1.metrics.k8s.io"},"spec":{"service":{
      "namespace":"kube-system","name":"metrics"}},"status":{"conditions":[
      {"type":"Available","status":"False","reason":"MissingEndpoints"}]}})");
  EXPECT_EQ(remote[1], "kube-system/metrics");
  EXPECT_EQ(remote[2], "False (MissingEndpoints)");
  auto exempt = row("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations",
                    R"({"metadata":{"name":"exempt"},"spec":{"type":"Exempt"}})");
  EXPECT_EQ(exempt[1], "Exempt");
  EXPECT_EQ(exempt[2], "<none>");
  EXPECT_EQ(exempt[5], "<none>");
}

}  // namespace
}  // namespace berth::apiserver::printers
