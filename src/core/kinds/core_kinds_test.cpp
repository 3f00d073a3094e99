// core/v1 kinds and generic metadata: defaults, validation causes, update rules, selectable
// fields.
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

const char* kPod = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
  "spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}],
    "readinessProbe":{"httpGet":{"port":80}},
    "resources":{"limits":{"cpu":"500m","memory":"128Mi"}}}]}})";

TEST(Metadata, NameRequiredUnlessGenerateName) {
  const auto& rt = resource("", "v1", "configmaps");
  auto obj = parse(R"({"metadata":{"namespace":"default"}})");
  auto errs = create(rt, obj);
  EXPECT_CAUSE(errs, "metadata.name", "FieldValueRequired",
               "Required value: name or generateName is required");
  auto gen = parse(R"({"metadata":{"namespace":"default","generateName":"cm-"}})");
  EXPECT_VALID(create(rt, gen));
}

TEST(Metadata, NameFormatMessage) {
  const auto& rt = resource("", "v1", "configmaps");
  auto obj = parse(R"({"metadata":{"name":"Bad_Name","namespace":"default"}})");
  auto errs = create(rt, obj);
  ASSERT_EQ(errs.size(), 1u) << describe(errs);
  EXPECT_EQ(errs[0].field, "metadata.name");
  EXPECT_EQ(errs[0].reason, "FieldValueInvalid");
  EXPECT_EQ(errs[0].message,
            "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower "
            "case alphanumeric characters, '-' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  EXPECT_EQ(formatInvalidMessage("", "ConfigMap", "Bad_Name", errs).rfind(
                "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"", 0),
            0u);
}

TEST(Metadata, NamespaceScopeLabelsAnnotations) {
  const auto& cm = resource("", "v1", "configmaps");
  auto noNs = parse(R"({"metadata":{"name":"x"}})");
  EXPECT_CAUSE(create(cm, noNs), "metadata.namespace", "FieldValueRequired", "Required value");
  const auto& nodes = resource("", "v1", "nodes");
  auto node = parse(R"({"metadata":{"name":"n1","namespace":"default"}})");
  EXPECT_CAUSE(create(nodes, node), "metadata.namespace", "FieldValueForbidden",
               "Forbidden: not allowed on this type");
  auto labels = parse(R"({"metadata":{"name":"x","namespace":"default",
      "labels":{"bad key":"v","ok":"-bad"},"annotations":{"a/b/c":"x"}}})");
  auto errs = create(cm, labels);
  EXPECT_TRUE(hasCause(errs, "metadata.labels", "FieldValueInvalid")) << describe(errs);
  bool sawValue = false;
  for (const auto& e : errs) {
    sawValue = sawValue || e.message.rfind("Invalid value: \"-bad\": a valid label must be", 0) == 0;
  }
  EXPECT_TRUE(sawValue) << describe(errs);
  EXPECT_TRUE(hasCause(errs, "metadata.annotations", "FieldValueInvalid")) << describe(errs);
  json::object big = parse(R"({"metadata":{"name":"x","namespace":"default"}})");
  big["metadata"].as_object()["annotations"] =
      json::object{{"big", std::string(256 * 1024, 'x')}};
  EXPECT_CAUSE(create(cm, big), "metadata.annotations", "FieldValueTooLong",
               "Too long: may not be more than 262144 bytes");
}

TEST(Metadata, UpdateNameImmutable) {
  const auto& cm = resource("", "v1", "configmaps");
  auto old = parse(R"({"metadata":{"name":"a","namespace":"default","uid":"u1"}})");
  auto obj = parse(R"({"metadata":{"name":"b","namespace":"default"}})");
  auto errs = update(cm, obj, old);
  EXPECT_CAUSE(errs, "metadata.name", "FieldValueInvalid", "Invalid value: \"b\": field is immutable");
  EXPECT_EQ(at(obj, "metadata.uid"), json::value("u1"));  // filled from the stored object
}

TEST(Pod, DefaultsAndStatus) {
  const auto& rt = resource("", "v1", "pods");
  auto pod = parse(kPod);
  EXPECT_VALID(create(rt, pod));
  EXPECT_EQ(at(pod, "spec.restartPolicy"), json::value("Always"));
  EXPECT_EQ(at(pod, "spec.dnsPolicy"), json::value("ClusterFirst"));
  EXPECT_EQ(at(pod, "spec.schedulerName"), json::value("default-scheduler"));
  EXPECT_EQ(at(pod, "spec.terminationGracePeriodSeconds"), json::value(30));
  EXPECT_EQ(at(pod, "spec.enableServiceLinks"), json::value(true));
  // Priority, ServiceAccount and DefaultTolerationSeconds are admission's, not defaults.
  EXPECT_FALSE(pod["spec"].as_object().contains("priority"));
  EXPECT_FALSE(pod["spec"].as_object().contains("serviceAccountName"));
  EXPECT_FALSE(pod["spec"].as_object().contains("tolerations"));
  EXPECT_TRUE(at(pod, "spec.securityContext").is_object());
  const auto& c = pod["spec"].as_object()["containers"].as_array()[0].as_object();
  EXPECT_EQ(c.at("imagePullPolicy"), json::value("Always"));
  EXPECT_EQ(c.at("terminationMessagePath"), json::value("/dev/termination-log"));
  EXPECT_EQ(c.at("terminationMessagePolicy"), json::value("File"));
  EXPECT_EQ(c.at("ports").as_array()[0].as_object().at("protocol"), json::value("TCP"));
  const auto& probe = c.at("readinessProbe").as_object();
  EXPECT_EQ(probe.at("timeoutSeconds"), json::value(1));
  EXPECT_EQ(probe.at("periodSeconds"), json::value(10));
  EXPECT_EQ(probe.at("successThreshold"), json::value(1));
  EXPECT_EQ(probe.at("failureThreshold"), json::value(3));
  EXPECT_EQ(probe.at("httpGet").as_object().at("path"), json::value("/"));
  EXPECT_EQ(at(c, "resources.requests.cpu"), json::value("500m"));
  EXPECT_EQ(at(pod, "status.phase"), json::value("Pending"));
  EXPECT_EQ(at(pod, "status.qosClass"), json::value("Guaranteed"));
  // Idempotent.
  auto again = pod;
  applyDefaults(rt, again);
  EXPECT_EQ(again, pod);
}

TEST(Pod, ImagePullPolicyByTagAndQos) {
  const auto& rt = resource("", "v1", "pods");
  auto pod = parse(R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[
      {"name":"a","image":"registry:5000/nginx:1.25"},{"name":"b","image":"nginx@sha256:abc"},
      {"name":"c","image":"nginx:latest","resources":{"requests":{"cpu":"1"}}}]}})");
  EXPECT_VALID(create(rt, pod));
  const auto& cs = pod["spec"].as_object()["containers"].as_array();
  EXPECT_EQ(cs[0].as_object().at("imagePullPolicy"), json::value("IfNotPresent"));
  EXPECT_EQ(cs[1].as_object().at("imagePullPolicy"), json::value("IfNotPresent"));
  EXPECT_EQ(cs[2].as_object().at("imagePullPolicy"), json::value("Always"));
  EXPECT_EQ(at(pod, "status.qosClass"), json::value("Burstable"));
  auto bare = parse(R"({"metadata":{"name":"p","namespace":"default"},
      "spec":{"containers":[{"name":"a","image":"x"}]}})");
  EXPECT_VALID(create(rt, bare));
  EXPECT_EQ(at(bare, "status.qosClass"), json::value("BestEffort"));
}

TEST(Pod, InvalidContainers) {
  const auto& rt = resource("", "v1", "pods");
  auto none = parse(R"({"metadata":{"name":"p","namespace":"default"},"spec":{}})");
  EXPECT_CAUSE(create(rt, none), "spec.containers", "FieldValueRequired", "Required value");
  auto bad = parse(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
      "restartPolicy":"Sometimes","containers":[
      {"name":"Web","image":"x","ports":[{"containerPort":70000,"protocol":"HTTP"}]},
      {"name":"dup"},{"name":"dup","image":"y",
       "resources":{"limits":{"cpu":"1"},"requests":{"cpu":"2","memory":"lots"}},
       "livenessProbe":{"successThreshold":2,"exec":{"command":["true"]}}}]}})");
  auto errs = create(rt, bad);
  EXPECT_TRUE(hasCause(errs, "spec.containers[0].name", "FieldValueInvalid")) << describe(errs);
  EXPECT_CAUSE(errs, "spec.containers[0].ports[0].containerPort", "FieldValueInvalid",
               "Invalid value: 70000: must be between 1 and 65535, inclusive");
  EXPECT_CAUSE(errs, "spec.containers[0].ports[0].protocol", "FieldValueNotSupported",
               "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
  EXPECT_CAUSE(errs, "spec.containers[1].image", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec.containers[2].name", "FieldValueDuplicate", "Duplicate value: \"dup\"");
  EXPECT_CAUSE(errs, "spec.containers[2].resources.requests[memory]", "FieldValueInvalid",
               "Invalid value: \"lots\": quantities must match the regular expression "
               "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_CAUSE(errs, "spec.containers[2].resources.requests[cpu]", "FieldValueInvalid",
               "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
  EXPECT_CAUSE(errs, "spec.containers[2].livenessProbe.successThreshold", "FieldValueInvalid",
               "Invalid value: 2: must be 1");
  EXPECT_CAUSE(errs, "spec.restartPolicy", "FieldValueNotSupported",
               "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", "
               "\"Never\"");
}

TEST(Pod, HostAliasesNeedAnIpAndSubdomainNames) {
  const auto& rt = resource("", "v1", "pods");
  auto good = parse(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
      "containers":[{"name":"c","image":"x"}],
      "hostAliases":[{"ip":"10.1.2.3","hostnames":["foo.local","bar"]},{"ip":"fd00::1"}]}})");
  EXPECT_VALID(create(rt, good));
  auto bad = parse(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
      "containers":[{"name":"c","image":"x"}],
      "hostAliases":[{"ip":"10.1.2.3","hostnames":["ok","Bad_Name"]},
                     {"ip":"not-an-ip","hostnames":["x"]},{"hostnames":["y"]}]}})");
  auto errs = create(rt, bad);
  EXPECT_EQ(errs.size(), 3u) << describe(errs);
  EXPECT_CAUSE(errs, "spec.hostAliases[0].hostnames[1]", "FieldValueInvalid",
               "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower "
               "case alphanumeric characters, '-' or '.', and must start and end with an "
               "alphanumeric character (e.g. 'example.com', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  EXPECT_CAUSE(errs, "spec.hostAliases[1].ip", "FieldValueInvalid",
               "Invalid value: \"not-an-ip\": must be a valid IP address, (e.g. 10.9.8.7 or "
               "2001:db8::ffff)");
  EXPECT_CAUSE(errs, "spec.hostAliases[2].ip", "FieldValueInvalid",
               "Invalid value: \"\": must be a valid IP address, (e.g. 10.9.8.7 or "
               "2001:db8::ffff)");
}

TEST(Pod, UpdateImmutability) {
  const auto& rt = resource("", "v1", "pods");
  auto old = parse(kPod);
  ASSERT_TRUE(create(rt, old).empty());
  old["metadata"].as_object()["uid"] = "u1";
  auto image = old;  // as a patch does: the stored object with the image changed
  image["spec"].as_object()["containers"].as_array()[0].as_object()["image"] = "nginx:1.27";
  EXPECT_VALID(update(rt, image, old));
  EXPECT_EQ(at(image, "status.phase"), json::value("Pending"));  // status kept from old
  auto port = parse(kPod);
  port["spec"].as_object()["containers"].as_array()[0].as_object()["ports"] =
      json::array{json::object{{"containerPort", 8080}}};
  auto errs = update(rt, port, old);
  ASSERT_EQ(errs.size(), 1u) << describe(errs);
  EXPECT_EQ(errs[0].field, "spec");
  EXPECT_EQ(errs[0].reason, "FieldValueForbidden");
  EXPECT_EQ(errs[0].message.rfind("Forbidden: pod updates may not change fields other than "
                                  "`spec.containers[*].image`",
                                  0),
            0u);
  auto status = parse(kPod);
  status["status"] = json::object{{"phase", "Running"}};
  status["spec"].as_object()["nodeName"] = "ignored";
  EXPECT_VALID(update(rt, status, old, true));
  EXPECT_EQ(at(status, "status.phase"), json::value("Running"));
  EXPECT_TRUE(at(status, "spec.nodeName").is_null());
}

TEST(Service, DefaultsAndValidation) {
  const auto& rt = resource("", "v1", "services");
  auto svc = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"selector":{"app":"web"},"ports":[{"port":80}]}})");
  EXPECT_VALID(create(rt, svc));
  EXPECT_EQ(at(svc, "spec.type"), json::value("ClusterIP"));
  EXPECT_EQ(at(svc, "spec.sessionAffinity"), json::value("None"));
  EXPECT_EQ(at(svc, "spec.internalTrafficPolicy"), json::value("Cluster"));
  EXPECT_EQ(at(svc, "spec.ipFamilyPolicy"), json::value("SingleStack"));
  // No ClusterIP given: the service storage fills the cluster's primary family.
  EXPECT_TRUE(at(svc, "spec.ipFamilies").is_null());
  EXPECT_TRUE(at(svc, "spec.externalTrafficPolicy").is_null());
  const auto& port = svc["spec"].as_object()["ports"].as_array()[0].as_object();
  EXPECT_EQ(port.at("protocol"), json::value("TCP"));
  EXPECT_EQ(port.at("targetPort"), json::value(80));
  EXPECT_TRUE(at(svc, "status.loadBalancer").is_object());

  auto np = parse(R"({"metadata":{"name":"np","namespace":"default"},
      "spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}})");
  EXPECT_VALID(create(rt, np));
  EXPECT_EQ(at(np, "spec.externalTrafficPolicy"), json::value("Cluster"));

  auto bad = parse(R"({"metadata":{"name":"1web","namespace":"default"},
      "spec":{"type":"Bogus","ports":[{"port":0},{"port":80,"name":"a"},{"port":81,"name":"a"}]}})");
  auto errs = create(rt, bad);
  EXPECT_TRUE(hasCause(errs, "metadata.name", "FieldValueInvalid")) << describe(errs);
  EXPECT_CAUSE(errs, "spec.ports[0].name", "FieldValueRequired", "Required value");
  EXPECT_CAUSE(errs, "spec.ports[0].port", "FieldValueInvalid",
               "Invalid value: 0: must be between 1 and 65535, inclusive");
  EXPECT_CAUSE(errs, "spec.ports[2].name", "FieldValueDuplicate", "Duplicate value: \"a\"");
  EXPECT_CAUSE(errs, "spec.type", "FieldValueNotSupported",
               "Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"ExternalName\", "
               "\"LoadBalancer\", \"NodePort\"");

  auto noPorts = parse(R"({"metadata":{"name":"x","namespace":"default"},"spec":{}})");
  EXPECT_CAUSE(create(rt, noPorts), "spec.ports", "FieldValueRequired", "Required value");
  auto headless = parse(R"({"metadata":{"name":"x","namespace":"default"},
      "spec":{"clusterIP":"None"}})");
  EXPECT_VALID(create(rt, headless));
  auto ext = parse(R"({"metadata":{"name":"x","namespace":"default"},
      "spec":{"type":"ExternalName","externalName":"example.com"}})");
  EXPECT_VALID(create(rt, ext));
  EXPECT_TRUE(at(ext, "spec.ipFamilies").is_null());
}

TEST(Service, ClusterIpImmutable) {
  const auto& rt = resource("", "v1", "services");
  auto old = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"clusterIP":"10.96.0.20","ports":[{"port":80}]}})");
  ASSERT_TRUE(create(rt, old).empty());
  auto omitted = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"ports":[{"port":81}]}})");
  EXPECT_VALID(update(rt, omitted, old));
  EXPECT_EQ(at(omitted, "spec.clusterIP"), json::value("10.96.0.20"));
  auto changed = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"clusterIP":"10.96.0.21","ports":[{"port":80}]}})");
  EXPECT_CAUSE(update(rt, changed, old), "spec.clusterIPs[0]", "FieldValueInvalid",
               "Invalid value: [\"10.96.0.21\"]: may not change once set");
  auto toExternal = parse(R"({"metadata":{"name":"web","namespace":"default"},
      "spec":{"type":"ExternalName","externalName":"x.example.com","clusterIP":"10.96.0.20"}})");
  EXPECT_VALID(update(rt, toExternal, old));
  EXPECT_TRUE(at(toExternal, "spec.clusterIP").is_null());
}

TEST(Namespace, DefaultsAndFinalizers) {
  const auto& rt = resource("", "v1", "namespaces");
  auto ns = parse(R"({"metadata":{"name":"team-a"}})");
  EXPECT_VALID(create(rt, ns));
  EXPECT_EQ(at(ns, "spec.finalizers"), json::value(json::array{"kubernetes"}));
  EXPECT_EQ(at(ns, "status.phase"), json::value("Active"));
  EXPECT_EQ(at(ns, "metadata.labels").as_object().at("kubernetes.io/metadata.name"),
            json::value("team-a"));
  auto bad = parse(R"({"metadata":{"name":"a.b"}})");
  EXPECT_CAUSE(create(rt, bad), "metadata.name", "FieldValueInvalid",
               "Invalid value: \"a.b\": must not contain dots");
  auto upd = parse(R"({"metadata":{"name":"team-a"},"spec":{"finalizers":[]}})");
  EXPECT_VALID(update(rt, upd, ns));
  EXPECT_EQ(at(upd, "spec.finalizers"), json::value(json::array{"kubernetes"}));
}

TEST(ConfigMapSecret, KeysAndTypes) {
  const auto& cm = resource("", "v1", "configmaps");
  auto good = parse(R"({"metadata":{"name":"c","namespace":"default"},"data":{"a.conf":"x"}})");
  EXPECT_VALID(create(cm, good));
  auto bad = parse(R"({"metadata":{"name":"c","namespace":"default"},"data":{"a/b":"x"}})");
  auto errs = create(cm, bad);
  ASSERT_EQ(errs.size(), 1u) << describe(errs);
  EXPECT_EQ(errs[0].field, "data[a/b]");
  EXPECT_EQ(errs[0].message.rfind("Invalid value: \"a/b\": a valid config key must consist of", 0),
            0u);
  auto immutable = parse(R"({"metadata":{"name":"c","namespace":"default"},"immutable":true,
      "data":{"a":"1"}})");
  ASSERT_TRUE(create(cm, immutable).empty());
  auto changed = parse(R"({"metadata":{"name":"c","namespace":"default"},"immutable":true,
      "data":{"a":"2"}})");
  EXPECT_CAUSE(update(cm, changed, immutable), "data", "FieldValueForbidden",
               "Forbidden: field is immutable when `immutable` is set");

  const auto& sec = resource("", "v1", "secrets");
  auto s = parse(R"({"metadata":{"name":"s","namespace":"default"},"stringData":{"k":"hello"}})");
  EXPECT_VALID(create(sec, s));
  EXPECT_EQ(at(s, "type"), json::value("Opaque"));
  EXPECT_EQ(at(s, "data.k"), json::value("aGVsbG8="));
  EXPECT_TRUE(at(s, "stringData").is_null());
  auto tls = parse(R"({"metadata":{"name":"t","namespace":"default"},"type":"kubernetes.io/tls",
      "data":{"tls.crt":"eA=="}})");
  auto tlsErrs = create(sec, tls);
  EXPECT_CAUSE(tlsErrs, "data[tls.key]", "FieldValueRequired", "Required value");
  EXPECT_FALSE(hasCause(tlsErrs, "data[tls.crt]", "FieldValueRequired"));
  auto docker = parse(R"({"metadata":{"name":"d","namespace":"default"},
      "type":"kubernetes.io/dockerconfigjson","data":{}})");
  EXPECT_CAUSE(create(sec, docker), "data[.dockerconfigjson]", "FieldValueRequired",
               "Required value");
  auto retype = parse(R"({"metadata":{"name":"s","namespace":"default"},"type":"Other"})");
  EXPECT_CAUSE(update(sec, retype, s), "type", "FieldValueInvalid",
               "Invalid value: \"Other\": field is immutable");
}

TEST(CoreKinds, OthersValidate) {
  auto ep = parse(R"({"metadata":{"name":"web","namespace":"default"},"subsets":[
      {"addresses":[{"ip":"10.244.0.5"}],"ports":[{"port":80}]}]})");
  EXPECT_VALID(create(resource("", "v1", "endpoints"), ep));
  EXPECT_EQ(ep["subsets"].as_array()[0].as_object()["ports"].as_array()[0].as_object()["protocol"],
            json::value("TCP"));
  auto badEp = parse(R"({"metadata":{"name":"web","namespace":"default"},"subsets":[
      {"addresses":[{"ip":"nope"}]}]})");
  EXPECT_TRUE(hasCause(create(resource("", "v1", "endpoints"), badEp),
                       "subsets[0].addresses[0].ip", "FieldValueInvalid"));

  auto node = parse(R"({"metadata":{"name":"n1"},"spec":{"taints":[{"key":"k","effect":"Bad"}]},
      "status":{"capacity":{"cpu":"2"}}})");
  auto nodeErrs = create(resource("", "v1", "nodes"), node);
  EXPECT_TRUE(hasCause(nodeErrs, "spec.taints[0].effect", "FieldValueNotSupported"));
  EXPECT_EQ(at(node, "status.allocatable.cpu"), json::value("2"));  // status kept on create

  auto ev = parse(R"({"metadata":{"name":"e1","namespace":"default"},
      "involvedObject":{"kind":"Pod","name":"p","namespace":"other"}})");
  EXPECT_CAUSE(create(resource("", "v1", "events"), ev), "involvedObject.namespace",
               "FieldValueInvalid", "Invalid value: \"other\": does not match event.namespace");

  auto sa = parse(R"({"metadata":{"name":"builder","namespace":"default"}})");
  EXPECT_VALID(create(resource("", "v1", "serviceaccounts"), sa));

  auto rc = parse(R"({"metadata":{"name":"rc","namespace":"default"},"spec":{"template":{
      "metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  EXPECT_VALID(create(resource("", "v1", "replicationcontrollers"), rc));
  EXPECT_EQ(at(rc, "spec.selector.app"), json::value("x"));
  EXPECT_EQ(at(rc, "spec.replicas"), json::value(1));
  EXPECT_EQ(at(rc, "metadata.labels.app"), json::value("x"));

  auto quota = parse(R"({"metadata":{"name":"q","namespace":"default"},
      "spec":{"hard":{"pods":"10","cpu":"bad"}}})");
  EXPECT_TRUE(hasCause(create(resource("", "v1", "resourcequotas"), quota), "spec.hard[cpu]",
                       "FieldValueInvalid"));
}

TEST(SelectableFields, PodsAndOthers) {
  const auto& pods = resource("", "v1", "pods");
  auto pod = parse(kPod);
  ASSERT_TRUE(create(pods, pod).empty());
  pod["spec"].as_object()["nodeName"] = "n1";
  pod["status"].as_object()["podIPs"] = json::array{json::object{{"ip", "10.244.0.9"}}};
  auto f = selectableFields(pods, pod);
  EXPECT_EQ(f["metadata.name"], "web");
  EXPECT_EQ(f["metadata.namespace"], "default");
  EXPECT_EQ(f["spec.nodeName"], "n1");
  EXPECT_EQ(f["status.phase"], "Pending");
  EXPECT_EQ(f["status.podIP"], "10.244.0.9");
  EXPECT_EQ(f["spec.hostNetwork"], "false");
  EXPECT_EQ(f["spec.restartPolicy"], "Always");
  EXPECT_TRUE(isSelectableField(pods, "spec.serviceAccountName"));
  EXPECT_FALSE(isSelectableField(pods, "spec.bogus"));
  const auto& ns = resource("", "v1", "namespaces");
  EXPECT_FALSE(isSelectableField(ns, "metadata.namespace"));
  EXPECT_TRUE(isSelectableField(ns, "status.phase"));
  const auto& events = resource("", "v1", "events");
  auto ev = parse(R"({"metadata":{"name":"e"},"involvedObject":{"kind":"Pod","name":"p"},
      "source":{"component":"kubelet"},"type":"Normal"})");
  auto ef = selectableFields(events, ev);
  EXPECT_EQ(ef["involvedObject.kind"], "Pod");
  EXPECT_EQ(ef["source"], "kubelet");
  EXPECT_EQ(ef["type"], "Normal");
  const auto& secrets = resource("", "v1", "secrets");
  EXPECT_EQ(selectableFields(secrets, parse(R"({"type":"Opaque"})"))["type"], "Opaque");
  const auto& nodes = resource("", "v1", "nodes");
  EXPECT_EQ(selectableFields(nodes, parse(R"({"spec":{"unschedulable":true}})"))
                ["spec.unschedulable"],
            "true");
}

TEST(Robustness, WrongTypesNeverThrow) {
  const char* inputs[] = {
      R"({"metadata":"x","spec":[]})",
      R"({"metadata":{"name":5,"labels":[1]},"spec":{"containers":"x","volumes":{}}})",
      R"({"spec":{"containers":[1,null,{"name":{},"ports":[null,{"containerPort":"x"}]}]}})",
      R"({"spec":{"template":5,"selector":"x","strategy":[]},"status":7})",
      R"({"data":{"k":5},"subsets":[{"addresses":7}],"rules":[{"verbs":"x"}]})"};
  for (const auto& rt : allResources()) {
    for (const char* in : inputs) {
      auto obj = parse(in);
      auto old = parse(in);
      EXPECT_NO_THROW({
        (void)create(rt, obj);
        (void)update(rt, obj, old);
        (void)selectableFields(rt, obj);
        convertFromStorage(rt, obj);
      }) << rt.kind << " " << in;
    }
  }
}

}  // namespace
}  // namespace berth::core::kinds
