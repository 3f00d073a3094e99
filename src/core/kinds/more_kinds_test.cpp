// Storage, certificates, admission registration, flow control and API registration kinds:
// defaults, required fields and enums as upstream, and the CSR's three write paths.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

constexpr const char* kCsrPem =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n";

TEST(StorageKinds, PersistentVolumeDefaultsAndRequiredFields) {
  const auto& rt = resource("", "v1", "persistentvolumes");
  auto pv = parse(R"({"metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"1Gi"},
      "accessModes":["ReadWriteOnce"],"hostPath":{"path":"/tmp/pv1"}}})");
  EXPECT_VALID(create(rt, pv));
  EXPECT_EQ(at(pv, "spec.persistentVolumeReclaimPolicy"), "Retain");
  EXPECT_EQ(at(pv, "spec.volumeMode"), "Filesystem");
  EXPECT_EQ(at(pv, "status.phase"), "Pending");

  auto bad = parse(R"({"metadata":{"name":"pv2"},"spec":{"accessModes":["Sometimes"],
      "persistentVolumeReclaimPolicy":"Keep"}})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "spec.capacity", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec", "FieldValueRequired", "Required value: must specify a volume type");
  EXPECT_CAUSE(errs, "spec.accessModes", "FieldValueNotSupported", "");
  EXPECT_CAUSE(errs, "spec.persistentVolumeReclaimPolicy", "FieldValueNotSupported", "");
}

TEST(StorageKinds, ClaimNeedsModesAndStorageAndKeepsItsSpec) {
  const auto& rt = resource("", "v1", "persistentvolumeclaims");
  auto none = parse(R"({"metadata":{"name":"c","namespace":"default"},"spec":{}})");
  auto errs = create(rt, none);
  EXPECT_CAUSE(errs, "spec.accessModes", "FieldValueRequired",
               "Required value: at least 1 access mode is required");
  EXPECT_CAUSE(errs, "spec.resources[storage]", "FieldValueRequired", "Required value");

  auto pvc = parse(R"({"metadata":{"name":"c","namespace":"default"},"spec":{
      "accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})");
  EXPECT_VALID(create(rt, pvc));
  EXPECT_EQ(at(pvc, "status.phase"), "Pending");
  EXPECT_EQ(at(pvc, "spec.volumeMode"), "Filesystem");
  auto grown = pvc;
  grown["spec"].as_object()["resources"].as_object()["requests"].as_object()["storage"] = "2Gi";
  EXPECT_VALID(update(rt, grown, pvc));
  auto changed = pvc;
  changed["spec"].as_object()["accessModes"] = json::array{"ReadWriteMany"};
  EXPECT_CAUSE(update(rt, changed, pvc), "spec", "FieldValueForbidden", "");
}

TEST(StorageKinds, StorageClassDefaultsEnumsAndImmutability) {
  const auto& rt = resource("storage.k8s.io", "v1", "storageclasses");
  auto sc = parse(R"({"metadata":{"name":"fast"},"provisioner":"example.com/fast"})");
  EXPECT_VALID(create(rt, sc));
  EXPECT_EQ(at(sc, "reclaimPolicy"), "Delete");
  EXPECT_EQ(at(sc, "volumeBindingMode"), "Immediate");
  auto bad = parse(R"({"metadata":{"name":"x"},"reclaimPolicy":"Recycle",
      "volumeBindingMode":"Later"})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "provisioner", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "reclaimPolicy", "FieldValueNotSupported",
               "Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"");
  EXPECT_CAUSE(errs, "volumeBindingMode", "FieldValueNotSupported", "");
  auto moved = sc;
  moved["provisioner"] = "example.com/slow";
  EXPECT_CAUSE(update(rt, moved, sc), "provisioner", "FieldValueForbidden",
               "Forbidden: updates to provisioner are forbidden.");
}

TEST(StorageKinds, CsiDriverNodeAndAttachment) {
  auto driver = parse(R"({"metadata":{"name":"csi.example.com"},"spec":{}})");
  EXPECT_VALID(create(resource("storage.k8s.io", "v1", "csidrivers"), driver));
  EXPECT_EQ(at(driver, "spec.attachRequired"), true);
  EXPECT_EQ(at(driver, "spec.fsGroupPolicy"), "ReadWriteOnceWithFSType");
  EXPECT_EQ(at(driver, "spec.volumeLifecycleModes"), json::array{"Persistent"});

  auto node = parse(R"({"metadata":{"name":"n1"},"spec":{"drivers":[{"name":"a","nodeID":"1"},
      {"name":"a"}]}})");
  auto errs = create(resource("storage.k8s.io", "v1", "csinodes"), node);
  EXPECT_CAUSE(errs, "spec.drivers[1].name", "FieldValueDuplicate", "Duplicate value: \"a\"");
  EXPECT_CAUSE(errs, "spec.drivers[1].nodeID", "FieldValueRequired", "Required value");

  const auto& va = resource("storage.k8s.io", "v1", "volumeattachments");
  auto att = parse(R"({"metadata":{"name":"va"},"spec":{"source":{}}})");
  errs = create(va, att);
  EXPECT_CAUSE(errs, "spec.attacher", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec.nodeName", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec.source", "FieldValueRequired",
               "Required value: must specify exactly one of inlineVolumeSpec and "
               "persistentVolumeName");
}

json::object csr() {
  json::object o = parse(R"({"metadata":{"name":"alice"},"spec":{
      "signerName":"kubernetes.io/kube-apiserver-client","usages":["client auth"]}})");
  o["spec"].as_object()["request"] = base64Encode(kCsrPem);
  return o;
}

TEST(CertificateSigningRequest, RequiredFieldsAndEnums) {
  const auto& rt = resource("certificates.k8s.io", "v1", "certificatesigningrequests");
  auto ok = csr();
  EXPECT_VALID(create(rt, ok));
  auto bad = parse(R"({"metadata":{"name":"b"},"spec":{"request":"bm90IGEgY3Ny",
      "usages":["flying"],"expirationSeconds":60}})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "spec.request", "FieldValueInvalid", "");
  EXPECT_CAUSE(errs, "spec.signerName", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec.usages[0]", "FieldValueNotSupported", "");
  EXPECT_CAUSE(errs, "spec.expirationSeconds", "FieldValueInvalid",
               "Invalid value: 60: may not specify a duration less than 600 seconds (10 "
               "minutes)");
}

TEST(CertificateSigningRequest, CreatorIsTheRequestingUserNotWhatTheClientClaims) {
  const auto& rt = resource("certificates.k8s.io", "v1", "certificatesigningrequests");
  auto o = csr();
  o["spec"].as_object()["username"] = "system:admin-impostor";
  o["spec"].as_object()["uid"] = "forged";
  recordRequester(rt, o, Requester{"alice", {"dev", "system:authenticated"}});
  EXPECT_EQ(at(o, "spec.username"), "alice");
  EXPECT_EQ(at(o, "spec.groups"), (json::array{"dev", "system:authenticated"}));
  EXPECT_TRUE(at(o, "spec.uid").is_null());
  auto pod = parse(R"({"metadata":{"name":"p"}})");
  recordRequester(resource("", "v1", "pods"), pod, Requester{"alice", {}});
  EXPECT_EQ(pod, parse(R"({"metadata":{"name":"p"}})"));
}

TEST(CertificateSigningRequest, ApprovalChangesOnlyConditionsAndStatusCannotApprove) {
  const auto& rt = resource("certificates.k8s.io", "v1", "certificatesigningrequests");
  auto stored = csr();
  ASSERT_TRUE(create(rt, stored).empty());
  // /approval: conditions change, a changed spec is ignored, timestamps are filled.
  auto approve = stored;
  approve["spec"].as_object()["signerName"] = "example.com/other";
  approve["status"] = parse(R"({"conditions":[{"type":"Approved","status":"True",
      "reason":"KubectlApprove"}]})");
  convertToStorage(rt, approve);
  prepareForUpdate(rt, approve, stored, std::string_view("approval"));
  EXPECT_VALID(validateUpdate(rt, approve, stored));
  EXPECT_EQ(at(approve, "spec.signerName"), "kubernetes.io/kube-apiserver-client");
  const auto& cond = approve["status"].at("conditions").as_array()[0].as_object();
  EXPECT_TRUE(cond.contains("lastUpdateTime"));
  EXPECT_TRUE(cond.contains("lastTransitionTime"));
  // The main resource keeps status; /status cannot drop or add an approval.
  auto main = approve;
  main["status"] = json::object();
  convertToStorage(rt, main);
  prepareForUpdate(rt, main, approve, std::string_view(""));
  EXPECT_EQ(main["status"].at("conditions").as_array().size(), 1u);
  auto status = approve;
  status["status"] = parse(R"({"conditions":[{"type":"Denied","status":"True"}]})");
  prepareForUpdate(rt, status, approve, std::string_view("status"));
  const auto& conds = status["status"].at("conditions").as_array();
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].at("type"), "Approved");
  // Approved and Denied together are invalid; an approval cannot be withdrawn.
  auto both = approve;
  both["status"] = parse(R"({"conditions":[{"type":"Approved","status":"True"},
      {"type":"Denied","status":"True"}]})");
  EXPECT_CAUSE(validateUpdate(rt, both, approve), "status.conditions", "FieldValueInvalid", "");
  auto withdrawn = approve;
  withdrawn["status"] = json::object();
  EXPECT_CAUSE(validateUpdate(rt, withdrawn, approve), "status.conditions", "FieldValueForbidden",
               "");
}

TEST(RegistrationKinds, WebhookDefaultsAndRequiredFields) {
  const auto& rt = resource("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations");
  auto ok = parse(R"({"metadata":{"name":"m"},"webhooks":[{"name":"a.example.com",
      "clientConfig":{"service":{"name":"s","namespace":"default"}},"sideEffects":"None",
      "admissionReviewVersions":["v1"],"rules":[{"operations":["CREATE"],"apiGroups":[""],
      "apiVersions":["v1"],"resources":["pods"]}]}]})");
  EXPECT_VALID(create(rt, ok));
  const auto& hook = ok["webhooks"].as_array()[0].as_object();
  EXPECT_EQ(hook.at("failurePolicy"), "Fail");
  EXPECT_EQ(hook.at("timeoutSeconds"), 10);
  EXPECT_EQ(hook.at("reinvocationPolicy"), "Never");
  EXPECT_EQ(at(hook, "clientConfig.service.port"), 443);
  EXPECT_EQ(hook.at("rules").as_array()[0].at("scope"), "*");

  auto bad = parse(R"({"metadata":{"name":"m"},"webhooks":[{"name":"short","clientConfig":{},
      "timeoutSeconds":99},{"name":"short"}]})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "webhooks[0].name", "FieldValueInvalid",
               "Invalid value: \"short\": should be a domain with at least three segments "
               "separated by dots");
  EXPECT_CAUSE(errs, "webhooks[1].name", "FieldValueDuplicate", "");
  EXPECT_CAUSE(errs, "webhooks[0].clientConfig", "FieldValueRequired",
               "Required value: exactly one of url or service is required");
  EXPECT_CAUSE(errs, "webhooks[0].admissionReviewVersions", "FieldValueRequired",
               "Required value: must specify one of v1, v1beta1");
  EXPECT_CAUSE(errs, "webhooks[0].sideEffects", "FieldValueRequired", "");
  EXPECT_CAUSE(errs, "webhooks[0].timeoutSeconds", "FieldValueInvalid", "");
}

TEST(RegistrationKinds, FlowControlDefaultsAndRanges) {
  auto fs = parse(R"({"metadata":{"name":"f"},"spec":{"priorityLevelConfiguration":{"name":"p"},
      "rules":[{"subjects":[{"kind":"User","user":{"name":"u"}}],
      "nonResourceRules":[{"verbs":["get"],"nonResourceURLs":["/healthz"]}]}]}})");
  const auto& fsType = resource("flowcontrol.apiserver.k8s.io", "v1", "flowschemas");
  EXPECT_VALID(create(fsType, fs));
  EXPECT_EQ(at(fs, "spec.matchingPrecedence"), 1000);
  auto far = parse(R"({"metadata":{"name":"f"},"spec":{"matchingPrecedence":20000}})");
  auto errs = create(fsType, far);
  EXPECT_CAUSE(errs, "spec.matchingPrecedence", "FieldValueInvalid",
               "Invalid value: 20000: must be between 1 and 10000, inclusive");
  EXPECT_CAUSE(errs, "spec.priorityLevelConfiguration.name", "FieldValueRequired", "");

  const auto& plType =
      resource("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations");
  auto pl = parse(R"({"metadata":{"name":"p"},"spec":{"type":"Limited","limited":{
      "limitResponse":{"type":"Queue","queuing":{}}}}})");
  EXPECT_VALID(create(plType, pl));
  EXPECT_EQ(at(pl, "spec.limited.nominalConcurrencyShares"), 30);
  EXPECT_EQ(at(pl, "spec.limited.limitResponse.queuing.queues"), 64);
  EXPECT_EQ(at(pl, "spec.limited.limitResponse.queuing.handSize"), 8);
  auto badPl = parse(R"({"metadata":{"name":"p"},"spec":{"type":"Sometimes"}})");
  EXPECT_CAUSE(create(plType, badPl), "spec.type", "FieldValueNotSupported", "");
}

TEST(RegistrationKinds, ApiServiceNameMustMatchGroupAndVersion) {
  const auto& rt = resource("apiregistration.k8s.io", "v1", "apiservices");
  auto ok = parse(R"({"metadata":{"name":"v1."},"spec":{"version":"v1",
      "groupPriorityMinimum":18000,"versionPriority":1}})");
  EXPECT_VALID(create(rt, ok));
  auto bad = parse(R"({"metadata":{"name":"v1.apps"},"spec":{"group":"batch","version":"v1"}})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "metadata.name", "FieldValueInvalid", "");
  EXPECT_CAUSE(errs, "spec.groupPriorityMinimum", "FieldValueInvalid",
               "Invalid value: 0: must be positive and less than 20000");
}

TEST(MoreKinds, CatalogueShortNamesAndScopes) {
  EXPECT_EQ(resource("", "v1", "persistentvolumes").shortNames, std::vector<std::string>{"pv"});
  EXPECT_EQ(resource("", "v1", "persistentvolumeclaims").shortNames,
            std::vector<std::string>{"pvc"});
  EXPECT_TRUE(resource("", "v1", "persistentvolumeclaims").namespaced);
  EXPECT_FALSE(resource("", "v1", "persistentvolumes").namespaced);
  EXPECT_EQ(resource("storage.k8s.io", "v1", "storageclasses").shortNames,
            std::vector<std::string>{"sc"});
  const auto& csrType = resource("certificates.k8s.io", "v1", "certificatesigningrequests");
  EXPECT_EQ(csrType.shortNames, std::vector<std::string>{"csr"});
  EXPECT_TRUE(csrType.hasSubresource("approval"));
  EXPECT_TRUE(csrType.hasSubresource("status"));
}

}  // namespace
}  // namespace berth::core::kinds
