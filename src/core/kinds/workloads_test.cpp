// apps, batch, autoscaling and the smaller groups: defaults, validation causes, update rules,
// generation tracking and HPA conversion.
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default"},
  "spec":{"selector":{"matchLabels":{"app":"web"}},
    "template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}}})";

TEST(Deployment, DefaultsAndGeneration) {
  const auto& rt = resource("apps", "v1", "deployments");
  auto d = parse(kDeployment);
  EXPECT_VALID(create(rt, d));
  EXPECT_EQ(at(d, "spec.replicas"), json::value(1));
  EXPECT_EQ(at(d, "spec.strategy.type"), json::value("RollingUpdate"));
  EXPECT_EQ(at(d, "spec.strategy.rollingUpdate.maxUnavailable"), json::value("25%"));
  EXPECT_EQ(at(d, "spec.strategy.rollingUpdate.maxSurge"), json::value("25%"));
  EXPECT_EQ(at(d, "spec.revisionHistoryLimit"), json::value(10));
  EXPECT_EQ(at(d, "spec.progressDeadlineSeconds"), json::value(600));
  EXPECT_EQ(at(d, "spec.template.spec.restartPolicy"), json::value("Always"));
  EXPECT_EQ(at(d, "metadata.generation"), json::value(1));
  EXPECT_TRUE(at(d, "status").is_object());
  EXPECT_TRUE(tracksGeneration(rt));

  auto same = parse(kDeployment);  // undefaulted but equal after defaults: no bump
  EXPECT_VALID(update(rt, same, d));
  EXPECT_EQ(at(same, "metadata.generation"), json::value(1));
  auto scaled = parse(kDeployment);
  scaled["spec"].as_object()["replicas"] = 3;
  EXPECT_VALID(update(rt, scaled, d));
  EXPECT_EQ(at(scaled, "metadata.generation"), json::value(2));
  auto status = d;
  status["status"] = json::object{{"replicas", 3}};
  status["spec"].as_object()["replicas"] = 9;
  EXPECT_VALID(update(rt, status, d, true));
  EXPECT_EQ(at(status, "spec.replicas"), json::value(1));
  EXPECT_EQ(at(status, "status.replicas"), json::value(3));
  EXPECT_EQ(at(status, "metadata.generation"), json::value(1));
}

TEST(Deployment, SelectorRules) {
  const auto& rt = resource("apps", "v1", "deployments");
  auto mismatch = parse(kDeployment);
  mismatch["spec"].as_object()["selector"] = json::object{{"matchLabels", {{"app", "other"}}}};
  EXPECT_CAUSE(create(rt, mismatch), "spec.template.metadata.labels", "FieldValueInvalid",
               "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match "
               "template `labels`");
  auto missing = parse(kDeployment);
  missing["spec"].as_object().erase("selector");
  EXPECT_CAUSE(create(rt, missing), "spec.selector", "FieldValueRequired", "Required value");
  auto empty = parse(kDeployment);
  empty["spec"].as_object()["selector"] = json::object();
  auto emptyErrs = create(rt, empty);
  ASSERT_TRUE(hasCause(emptyErrs, "spec.selector", "FieldValueInvalid")) << describe(emptyErrs);
  EXPECT_NE(emptyErrs[0].message.find("empty selector is invalid for deployment"),
            std::string::npos);
  auto restart = parse(kDeployment);
  restart["spec"].as_object()["template"].as_object()["spec"].as_object()["restartPolicy"] = "Never";
  EXPECT_CAUSE(create(rt, restart), "spec.template.spec.restartPolicy", "FieldValueNotSupported",
               "Unsupported value: \"Never\": supported values: \"Always\"");
  auto zero = parse(kDeployment);
  zero["spec"].as_object()["strategy"] = json::object{
      {"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", 0}}}};
  EXPECT_TRUE(hasCause(create(rt, zero), "spec.strategy.rollingUpdate.maxUnavailable",
                       "FieldValueInvalid"));

  auto old = parse(kDeployment);
  ASSERT_TRUE(create(rt, old).empty());
  auto moved = parse(kDeployment);
  moved["spec"].as_object()["selector"] =
      json::object{{"matchLabels", {{"app", "web"}, {"tier", "x"}}}};
  moved["spec"].as_object()["template"].as_object()["metadata"].as_object()["labels"] =
      json::object{{"app", "web"}, {"tier", "x"}};
  auto errs = update(rt, moved, old);
  ASSERT_TRUE(hasCause(errs, "spec.selector", "FieldValueInvalid")) << describe(errs);
  EXPECT_NE(errs.back().message.find("field is immutable"), std::string::npos);
}

TEST(ReplicaSetDaemonSetStatefulSet, Defaults) {
  const char* tmpl = R"("selector":{"matchLabels":{"app":"x"}},"template":{"metadata":
      {"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}})";
  auto rs = parse((std::string(R"({"metadata":{"name":"rs","namespace":"default"},"spec":{)") +
                   tmpl + "}}").c_str());
  EXPECT_VALID(create(resource("apps", "v1", "replicasets"), rs));
  EXPECT_EQ(at(rs, "spec.replicas"), json::value(1));

  auto ds = parse((std::string(R"({"metadata":{"name":"ds","namespace":"default"},"spec":{)") +
                   tmpl + "}}").c_str());
  EXPECT_VALID(create(resource("apps", "v1", "daemonsets"), ds));
  EXPECT_EQ(at(ds, "spec.updateStrategy.type"), json::value("RollingUpdate"));
  EXPECT_EQ(at(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"), json::value(1));
  EXPECT_EQ(at(ds, "spec.updateStrategy.rollingUpdate.maxSurge"), json::value(0));
  EXPECT_EQ(at(ds, "spec.revisionHistoryLimit"), json::value(10));

  const auto& stsRt = resource("apps", "v1", "statefulsets");
  auto sts = parse((std::string(R"({"metadata":{"name":"db","namespace":"default"},"spec":{)") +
                    R"("serviceName":"db",)" + tmpl + "}}").c_str());
  EXPECT_VALID(create(stsRt, sts));
  EXPECT_EQ(at(sts, "spec.podManagementPolicy"), json::value("OrderedReady"));
  EXPECT_EQ(at(sts, "spec.updateStrategy.rollingUpdate.partition"), json::value(0));
  EXPECT_EQ(at(sts, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), json::value("Retain"));
  EXPECT_EQ(at(sts, "spec.replicas"), json::value(1));
  auto renamed = sts;
  renamed["spec"].as_object()["serviceName"] = "other";
  auto errs = update(stsRt, renamed, sts);
  ASSERT_TRUE(hasCause(errs, "spec", "FieldValueForbidden")) << describe(errs);
  auto scaled = sts;
  scaled["spec"].as_object()["replicas"] = 3;
  EXPECT_VALID(update(stsRt, scaled, sts));
}

TEST(Job, DefaultsSelectorGeneration) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto job = parse(R"({"metadata":{"name":"pi","namespace":"default","uid":"1234"},
      "spec":{"template":{"spec":{"restartPolicy":"Never",
        "containers":[{"name":"pi","image":"perl"}]}}}})");
  EXPECT_VALID(create(rt, job));
  EXPECT_EQ(at(job, "spec.completions"), json::value(1));
  EXPECT_EQ(at(job, "spec.parallelism"), json::value(1));
  EXPECT_EQ(at(job, "spec.backoffLimit"), json::value(6));
  EXPECT_EQ(at(job, "spec.completionMode"), json::value("NonIndexed"));
  EXPECT_EQ(at(job, "spec.suspend"), json::value(false));
  auto matchLabels = at(job, "spec.selector.matchLabels").as_object();
  EXPECT_EQ(matchLabels.at("batch.kubernetes.io/controller-uid"), json::value("1234"));
  auto labels = at(job, "spec.template.metadata.labels").as_object();
  EXPECT_EQ(labels.at("job-name"), json::value("pi"));
  EXPECT_EQ(labels.at("controller-uid"), json::value("1234"));

  auto parallel = parse(R"({"metadata":{"name":"p","namespace":"default","uid":"1"},
      "spec":{"parallelism":3,"template":{"spec":{"restartPolicy":"OnFailure",
        "containers":[{"name":"c","image":"i"}]}}}})");
  EXPECT_VALID(create(rt, parallel));
  EXPECT_TRUE(at(parallel, "spec.completions").is_null());

  auto always = parse(R"({"metadata":{"name":"a","namespace":"default","uid":"1"},
      "spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  EXPECT_CAUSE(create(rt, always), "spec.template.spec.restartPolicy", "FieldValueNotSupported",
               "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");

  auto changed = job;
  changed["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"] =
      json::array{json::object{{"name", "pi"}, {"image", "perl:2"}}};
  EXPECT_TRUE(hasCause(update(rt, changed, job), "spec.template", "FieldValueInvalid"));
}

TEST(CronJob, ScheduleAndDefaults) {
  const auto& rt = resource("batch", "v1", "cronjobs");
  auto cj = parse(R"({"metadata":{"name":"hello","namespace":"default"},
      "spec":{"schedule":"*/1 * * * *","jobTemplate":{"spec":{"template":{"spec":{
        "restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}})");
  EXPECT_VALID(create(rt, cj));
  EXPECT_EQ(at(cj, "spec.concurrencyPolicy"), json::value("Allow"));
  EXPECT_EQ(at(cj, "spec.suspend"), json::value(false));
  EXPECT_EQ(at(cj, "spec.successfulJobsHistoryLimit"), json::value(3));
  EXPECT_EQ(at(cj, "spec.failedJobsHistoryLimit"), json::value(1));
  auto bad = cj;
  bad["spec"].as_object()["schedule"] = "every minute";
  EXPECT_CAUSE(create(rt, bad), "spec.schedule", "FieldValueInvalid",
               "Invalid value: \"every minute\": expected exactly 5 fields, found 2: [every "
               "minute]");
  auto missing = cj;
  missing["spec"].as_object().erase("schedule");
  EXPECT_CAUSE(create(rt, missing), "spec.schedule", "FieldValueRequired", "Required value");
}

TEST(Hpa, V1ConversionAndValidation) {
  const auto& v1 = resource("autoscaling", "v1", "horizontalpodautoscalers");
  auto hpa = parse(R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
      "metadata":{"name":"web","namespace":"default"},
      "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
        "maxReplicas":5,"targetCPUUtilizationPercentage":50}})");
  EXPECT_VALID(create(v1, hpa));
  EXPECT_EQ(at(hpa, "apiVersion"), json::value("autoscaling/v2"));
  EXPECT_EQ(at(hpa, "spec.minReplicas"), json::value(1));
  auto metric = at(hpa, "spec.metrics").as_array().at(0).as_object();
  EXPECT_EQ(at(metric, "resource.name"), json::value("cpu"));
  EXPECT_EQ(at(metric, "resource.target.averageUtilization"), json::value(50));
  // Back to v1, with a status and an extra metric that v1 cannot express.
  auto stored = hpa;
  stored["spec"].as_object()["metrics"].as_array().push_back(json::object{
      {"type", "Pods"},
      {"pods", {{"metric", {{"name", "qps"}}}, {"target", {{"type", "AverageValue"}}}}}});
  stored["status"] = json::object{
      {"desiredReplicas", 2},
      {"currentMetrics", json::array{json::object{
                             {"type", "Resource"},
                             {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", 40}}}}}}}}};
  auto out = stored;
  convertFromStorage(v1, out);
  EXPECT_EQ(at(out, "apiVersion"), json::value("autoscaling/v1"));
  EXPECT_EQ(at(out, "spec.targetCPUUtilizationPercentage"), json::value(50));
  EXPECT_EQ(at(out, "status.currentCPUUtilizationPercentage"), json::value(40));
  EXPECT_TRUE(at(out, "spec.metrics").is_null());
  EXPECT_TRUE(at(out, "metadata.annotations").as_object().contains(
      "autoscaling.alpha.kubernetes.io/metrics"));
  auto back = out;
  convertToStorage(v1, back);
  EXPECT_EQ(at(back, "spec.metrics"), at(stored, "spec.metrics"));
  EXPECT_TRUE(at(back, "metadata.annotations").is_null());

  const auto& v2 = resource("autoscaling", "v2", "horizontalpodautoscalers");
  auto bad = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"scaleTargetRef":{"kind":"Deployment"},"minReplicas":3,"maxReplicas":2}})");
  auto errs = create(v2, bad);
  EXPECT_CAUSE(errs, "spec.maxReplicas", "FieldValueInvalid",
               "Invalid value: 2: must be greater than or equal to `minReplicas`");
  EXPECT_CAUSE(errs, "spec.scaleTargetRef.name", "FieldValueRequired", "Required value");
}

TEST(Networking, IngressAndClass) {
  const auto& rt = resource("networking.k8s.io", "v1", "ingresses");
  auto ing = parse(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"rules":[
      {"host":"web.example.com","http":{"paths":[{"path":"/","pathType":"Prefix",
        "backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}})");
  EXPECT_VALID(create(rt, ing));
  EXPECT_EQ(at(ing, "metadata.generation"), json::value(1));
  auto bad = parse(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"rules":[
      {"host":"10.0.0.1","http":{"paths":[{"path":"/"},{"path":"x","pathType":"Exact",
        "backend":{"service":{"name":"web"}}},{"path":"/","pathType":"Regex",
        "backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}})");
  auto errs = create(rt, bad);
  EXPECT_CAUSE(errs, "spec.rules[0].host", "FieldValueInvalid",
               "Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address");
  EXPECT_CAUSE(errs, "spec.rules[0].http.paths[0].pathType", "FieldValueRequired",
               "Required value: pathType must be specified");
  EXPECT_CAUSE(errs, "spec.rules[0].http.paths[1].path", "FieldValueInvalid",
               "Invalid value: \"x\": must be an absolute path");
  EXPECT_CAUSE(errs, "spec.rules[0].http.paths[1].backend", "FieldValueRequired",
               "Required value: port name or number is required");
  EXPECT_CAUSE(errs, "spec.rules[0].http.paths[2].pathType", "FieldValueNotSupported",
               "Unsupported value: \"Regex\": supported values: \"Exact\", "
               "\"ImplementationSpecific\", \"Prefix\"");

  const auto& cls = resource("networking.k8s.io", "v1", "ingressclasses");
  auto ic = parse(R"({"metadata":{"name":"nginx"},"spec":{"controller":"k8s.io/ingress-nginx"}})");
  EXPECT_VALID(create(cls, ic));
  auto icBad = parse(R"({"metadata":{"name":"nginx"},"spec":{"controller":"nginx"}})");
  EXPECT_CAUSE(create(cls, icBad), "spec.controller", "FieldValueInvalid",
               "Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")");
}

TEST(OtherGroups, SliceLeaseEventsPriorityPdb) {
  const auto& slices = resource("discovery.k8s.io", "v1", "endpointslices");
  auto slice = parse(R"({"metadata":{"name":"web-abc","namespace":"default"},"addressType":"IPv4",
      "endpoints":[{"addresses":["10.244.0.5"]}],"ports":[{"port":80}]})");
  EXPECT_VALID(create(slices, slice));
  EXPECT_EQ(slice["ports"].as_array()[0].as_object()["protocol"], json::value("TCP"));
  auto noType = parse(R"({"metadata":{"name":"s","namespace":"default"}})");
  EXPECT_CAUSE(create(slices, noType), "addressType", "FieldValueRequired", "Required value");
  auto retyped = slice;
  retyped["addressType"] = "IPv6";
  retyped["endpoints"] = json::array();
  EXPECT_TRUE(hasCause(update(slices, retyped, slice), "addressType", "FieldValueInvalid"));

  auto lease = parse(R"({"metadata":{"name":"l","namespace":"kube-system"},
      "spec":{"holderIdentity":"a","leaseDurationSeconds":0}})");
  EXPECT_CAUSE(create(resource("coordination.k8s.io", "v1", "leases"), lease),
               "spec.leaseDurationSeconds", "FieldValueInvalid",
               "Invalid value: 0: must be greater than 0");

  auto ev = parse(R"({"metadata":{"name":"e","namespace":"default"},"type":"Odd"})");
  auto evErrs = create(resource("events.k8s.io", "v1", "events"), ev);
  EXPECT_CAUSE(evErrs, "eventTime", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(evErrs, "type", "FieldValueInvalid", "Invalid value: \"\": has invalid value: Odd");

  const auto& pcs = resource("scheduling.k8s.io", "v1", "priorityclasses");
  auto pc = parse(R"({"metadata":{"name":"high"},"value":1000})");
  EXPECT_VALID(create(pcs, pc));
  EXPECT_EQ(at(pc, "preemptionPolicy"), json::value("PreemptLowerPriority"));
  auto tooHigh = parse(R"({"metadata":{"name":"huge"},"value":2000000000})");
  EXPECT_CAUSE(create(pcs, tooHigh), "value", "FieldValueForbidden",
               "Forbidden: maximum allowed value of a user defined priority is 1000000000");
  auto revalue = pc;
  revalue["value"] = 5;
  EXPECT_CAUSE(update(pcs, revalue, pc), "value", "FieldValueForbidden",
               "Forbidden: may not be changed in an update.");

  const auto& pdbs = resource("policy", "v1", "poddisruptionbudgets");
  auto pdb = parse(R"({"metadata":{"name":"p","namespace":"default"},
      "spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"x"}}}})");
  EXPECT_VALID(create(pdbs, pdb));
  auto both = parse(R"({"metadata":{"name":"p","namespace":"default"},
      "spec":{"minAvailable":1,"maxUnavailable":"150%"}})");
  auto pdbErrs = create(pdbs, both);
  EXPECT_TRUE(hasCause(pdbErrs, "spec", "FieldValueInvalid")) << describe(pdbErrs);
  EXPECT_TRUE(hasCause(pdbErrs, "spec.maxUnavailable", "FieldValueInvalid")) << describe(pdbErrs);
}

TEST(Rbac, RulesBindingsRoleRef) {
  const auto& roles = resource("rbac.authorization.k8s.io", "v1", "roles");
  auto role = parse(R"({"metadata":{"name":"reader","namespace":"default"},
      "rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]})");
  EXPECT_VALID(create(roles, role));
  auto noVerbs = parse(R"({"metadata":{"name":"r","namespace":"default"},
      "rules":[{"apiGroups":[""],"resources":["pods"]},{"nonResourceURLs":["/x"],"verbs":["get"]}]})");
  auto errs = create(roles, noVerbs);
  EXPECT_CAUSE(errs, "rules[0].verbs", "FieldValueRequired",
               "Required value: verbs must contain at least one value");
  EXPECT_TRUE(hasCause(errs, "rules[1].nonResourceURLs", "FieldValueInvalid")) << describe(errs);

  const auto& rbs = resource("rbac.authorization.k8s.io", "v1", "rolebindings");
  auto rb = parse(R"({"metadata":{"name":"b","namespace":"default"},
      "roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"User","name":"alice"}]})");
  EXPECT_VALID(create(rbs, rb));
  EXPECT_EQ(at(rb, "roleRef.apiGroup"), json::value("rbac.authorization.k8s.io"));
  auto badSubject = parse(R"({"metadata":{"name":"b","namespace":"default"},
      "roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"Robot","name":"x"}]})");
  EXPECT_CAUSE(create(rbs, badSubject), "subjects[0].kind", "FieldValueNotSupported",
               "Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", "
               "\"Group\"");
  auto moved = rb;
  moved["roleRef"].as_object()["name"] = "writer";
  auto upd = update(rbs, moved, rb);
  ASSERT_TRUE(hasCause(upd, "roleRef", "FieldValueInvalid")) << describe(upd);
  EXPECT_NE(upd.back().message.find("cannot change roleRef"), std::string::npos);

  const auto& crbs = resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
  auto crb = parse(R"({"metadata":{"name":"b"},"roleRef":{"kind":"Role","name":"x"},
      "subjects":[{"kind":"ServiceAccount","name":"default"}]})");
  auto crbErrs = create(crbs, crb);
  EXPECT_CAUSE(crbErrs, "roleRef.kind", "FieldValueNotSupported",
               "Unsupported value: \"Role\": supported values: \"ClusterRole\"");
  EXPECT_CAUSE(crbErrs, "subjects[0].namespace", "FieldValueRequired", "Required value");
}

TEST(SelectableFields, WorkloadFields) {
  const auto& jobs = resource("batch", "v1", "jobs");
  EXPECT_EQ(selectableFields(jobs, parse(R"({"status":{"succeeded":2}})"))["status.successful"],
            "2");
  EXPECT_EQ(selectableFields(jobs, parse(R"({})"))["status.successful"], "0");
  const auto& rs = resource("apps", "v1", "replicasets");
  EXPECT_TRUE(isSelectableField(rs, "status.replicas"));
  EXPECT_FALSE(isSelectableField(resource("apps", "v1", "deployments"), "status.replicas"));
}

}  // namespace
}  // namespace berth::core::kinds
