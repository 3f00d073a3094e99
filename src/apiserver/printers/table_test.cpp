#include "apiserver/printers/table.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/printers/format.h"

namespace berth::apiserver::printers {
namespace {
namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2024-03-01T12:00:00Z
const auto kNow = std::chrono::system_clock::time_point(seconds(1709294400));

const core::ResourceType& resource(std::string_view group, std::string_view version,
                                   std::string_view plural) {
  const core::ResourceType* rt = core::findResource(group, version, plural);
  EXPECT_NE(rt, nullptr) << plural;
  return *rt;
}

json::object parse(std::string_view text) { return json::parse(text).as_object(); }

std::vector<std::string> columnNames(const json::array& cols, int maxPriority = 1) {
  std::vector<std::string> names;
  for (const auto& c : cols) {
    if (c.at("priority").as_int64() <= maxPriority) {
      names.emplace_back(c.at("name").as_string());
    }
  }
  return names;
}

// The cell text of a column by its name.
json::value cell(const core::ResourceType& rt, const json::array& cells, std::string_view col) {
  json::array defs = columnDefinitions(rt);
  EXPECT_EQ(defs.size(), cells.size()) << "cells must match columns for " << rt.plural;
  for (size_t i = 0; i < defs.size() && i < cells.size(); ++i) {
    if (defs[i].at("name").as_string() == col) return cells[i];
  }
  ADD_FAILURE() << "no column " << col;
  return nullptr;
}

std::string text(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

// ---- HumanDuration: boundaries of every branch of upstream's function ----

TEST(HumanDuration, MatchesUpstreamAtBoundaries) {
  struct Case {
    std::int64_t secs;
    const char* want;
  };
  const Case cases[] = {
      {-100, "<invalid>"},
      {-2, "<invalid>"},
      {-1, "0s"},
      {0, "0s"},
      {1, "1s"},
      {59, "59s"},
      {60, "60s"},
      {119, "119s"},
      {120, "2m"},
      {121, "2m1s"},
      {179, "2m59s"},
      {180, "3m"},
      {599, "9m59s"},
      {600, "10m"},
      {601, "10m"},
      {3599, "59m"},
      {3600, "60m"},
      {10799, "179m"},
      {10800, "3h"},
      {10860, "3h1m"},
      {28799, "7h59m"},
      {28800, "8h"},
      {172799, "47h"},
      {172800, "2d"},
      {176400, "2d1h"},
      {691199, "7d23h"},
      {691200, "8d"},
      {63071999, "729d"},
      {63072000, "2y"},
      {63158400, "2y1d"},
      {252287999, "7y364d"},
      {252288000, "8y"},
      {315360000, "10y"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(humanDuration(seconds(c.secs)), c.want) << c.secs;
  }
}

TEST(Age, ParsesRfc3339AndHandlesMissing) {
  EXPECT_EQ(ageOf("2024-03-01T11:55:00Z", kNow), "5m");
  EXPECT_EQ(ageOf("2024-03-01T11:56:48Z", kNow), "3m12s");
  EXPECT_EQ(ageOf("2024-02-28T09:00:00Z", kNow), "2d3h");
  // Offsets and fractions (MicroTime) are honoured; fractions truncate like Go's int().
  EXPECT_EQ(ageOf("2024-03-01T13:55:00+02:00", kNow), "5m");
  EXPECT_EQ(ageOf("2024-03-01T11:59:00.600000Z", kNow), "59s");
  EXPECT_EQ(ageOf("", kNow), "<unknown>");
  EXPECT_EQ(ageOf("yesterday", kNow), "<unknown>");
  EXPECT_EQ(ageOf("2024-13-01T00:00:00Z", kNow), "<unknown>");
  EXPECT_EQ(ageOf("0001-01-01T00:00:00Z", kNow), "<unknown>");
  EXPECT_EQ(ageOf("2024-03-01T12:00:05Z", kNow), "<invalid>");
}

TEST(Format, TimeRoundTripsThroughUtc) {
  auto t = internal::parseTime("2024-02-29T23:59:58+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(internal::formatTimeUtc(*t), "2024-02-29T22:59:58Z");
  EXPECT_EQ(internal::formatTimeUtc(*internal::parseTime("1999-12-31T00:00:00Z")),
            "1999-12-31T00:00:00Z");
}

TEST(Format, LabelSelectorsAsUpstreamPrintsThem) {
  auto sel = parse(R"({"matchLabels":{"tier":"web","app":"x"},
      "matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},
                          {"key":"gone","operator":"DoesNotExist"}]})");
  EXPECT_EQ(internal::formatLabelSelector(&sel), "app=x,env in (dev,prod),!gone,tier=web");
  auto empty = parse("{}");
  EXPECT_EQ(internal::formatLabelSelector(&empty), "<none>");
  EXPECT_EQ(internal::formatLabelSelector(nullptr), "<none>");
  auto bad = parse(R"({"matchExpressions":[{"key":"a","operator":"Near"}]})");
  EXPECT_EQ(internal::formatLabelSelector(&bad), "<error>");
}

// ---- columns ----

TEST(Columns, PodsAsUpstream) {
  const auto& pods = resource("", "v1", "pods");
  json::array cols = columnDefinitions(pods);
  EXPECT_EQ(columnNames(cols, 0),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age"}));
  EXPECT_EQ(columnNames(cols),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                      "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(cols[0].at("type").as_string(), "string");
  EXPECT_EQ(cols[0].at("format").as_string(), "name");
  EXPECT_EQ(cols[1].at("format").as_string(), "");
  EXPECT_FALSE(cols[0].at("description").as_string().empty());
}

TEST(Columns, EveryCatalogueResourceHasANameColumnAndMatchingRowWidth) {
  json::object empty = parse(R"({"metadata":{"name":"x","creationTimestamp":
      "2024-03-01T11:00:00Z"}})");
  for (const auto& rt : core::allResources()) {
    json::array cols = columnDefinitions(rt);
    bool hasName = false;
    for (const auto& c : cols) {
      if (c.at("format").as_string() == "name") hasName = true;
    }
    EXPECT_TRUE(hasName) << rt.plural;
    json::array cells = rowCells(rt, empty, kNow);
    EXPECT_EQ(cells.size(), cols.size()) << rt.plural;
  }
}

TEST(Columns, KindSpecificHeaders) {
  EXPECT_EQ(columnNames(columnDefinitions(resource("apps", "v1", "deployments")), 0),
            (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age"}));
  EXPECT_EQ(columnNames(columnDefinitions(resource("", "v1", "services"))),
            (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age",
                                      "Selector"}));
  EXPECT_EQ(columnNames(columnDefinitions(resource("batch", "v1", "jobs")), 0),
            (std::vector<std::string>{"Name", "Status", "Completions", "Duration", "Age"}));
  EXPECT_EQ(columnNames(columnDefinitions(resource("", "v1", "events")), 0),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Message"}));
  EXPECT_EQ(
      columnNames(columnDefinitions(resource("autoscaling", "v2", "horizontalpodautoscalers"))),
      (std::vector<std::string>{"Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas",
                                "Age"}));
  EXPECT_EQ(columnNames(columnDefinitions(resource("rbac.authorization.k8s.io", "v1", "roles"))),
            (std::vector<std::string>{"Name", "Created At"}));
}

// ---- pods ----

class PodRows : public ::testing::Test {
 protected:
  const core::ResourceType& pods_ = resource("", "v1", "pods");
  json::array row(std::string_view pod) { return rowCells(pods_, parse(pod), kNow); }
  std::string status(std::string_view pod) { return text(cell(pods_, row(pod), "Status")); }
};

TEST_F(PodRows, RunningPod) {
  json::array r = row(R"({"metadata":{"name":"web","creationTimestamp":"2024-03-01T11:54:48Z"},
    "spec":{"nodeName":"n1","containers":[{"name":"a"},{"name":"b"}]},
    "status":{"phase":"Running","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],
      "conditions":[{"type":"Ready","status":"True"}],
      "containerStatuses":[
        {"name":"a","ready":true,"restartCount":0,"state":{"running":{}}},
        {"name":"b","ready":false,"restartCount":0,"state":{"running":{}}}]}})");
  ASSERT_EQ(r.size(), 9u);
  EXPECT_EQ(text(r[0]), "web");
  EXPECT_EQ(text(r[1]), "1/2");
  EXPECT_EQ(text(r[2]), "Running");
  EXPECT_EQ(text(r[3]), "0");
  EXPECT_EQ(text(r[4]), "5m12s");
  EXPECT_EQ(text(r[5]), "10.244.0.5");
  EXPECT_EQ(text(r[6]), "n1");
  EXPECT_EQ(text(r[7]), "<none>");
  EXPECT_EQ(text(r[8]), "<none>");
}

TEST_F(PodRows, PendingUnscheduledPod) {
  json::array r = row(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]},
    "status":{"phase":"Pending"}})");
  EXPECT_EQ(text(r[1]), "0/1");
  EXPECT_EQ(text(r[2]), "Pending");
  EXPECT_EQ(text(r[4]), "<unknown>");
  EXPECT_EQ(text(r[5]), "<none>");
  EXPECT_EQ(text(r[6]), "<none>");
}

TEST_F(PodRows, WaitingReasonWins) {
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Pending",
    "containerStatuses":[{"name":"a","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}})"),
            "ImagePullBackOff");
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running",
    "containerStatuses":[{"name":"a","restartCount":4,"state":{"waiting":
      {"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1,
      "finishedAt":"2024-03-01T11:58:00Z"}}}]}})"),
            "CrashLoopBackOff");
}

TEST_F(PodRows, RestartsShowLastRestartAge) {
  json::array r = row(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running",
    "containerStatuses":[{"name":"a","restartCount":4,"ready":true,"state":{"running":{}},
      "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-03-01T11:58:00Z"}}}]}})");
  EXPECT_EQ(text(r[3]), "4 (2m ago)");
  // Restarts without a recorded termination time print the bare count.
  r = row(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running",
    "containerStatuses":[{"name":"a","restartCount":2,"state":{"running":{}}}]}})");
  EXPECT_EQ(text(r[3]), "2");
}

TEST_F(PodRows, TerminatedContainers) {
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Succeeded",
    "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0,
      "reason":"Completed"}}}]}})"),
            "Completed");
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed",
    "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":137}}}]}})"),
            "ExitCode:137");
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed",
    "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0,"signal":9}}}]}})"),
            "Signal:9");
  // One container completed while another still runs: Running if the pod is Ready.
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{
    "phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[
      {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"b","ready":true,"state":{"running":{}}}]}})"),
            "Running");
  EXPECT_EQ(status(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{
    "phase":"Running","containerStatuses":[
      {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"b","ready":true,"state":{"running":{}}}]}})"),
            "NotReady");
}

TEST_F(PodRows, InitContainers) {
  EXPECT_EQ(status(R"({"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],
    "containers":[{"name":"a"}]},"status":{"phase":"Pending","initContainerStatuses":[
      {"name":"i1","state":{"terminated":{"exitCode":0}}},
      {"name":"i2","state":{"running":{}}}]}})"),
            "Init:1/2");
  EXPECT_EQ(status(R"({"spec":{"initContainers":[{"name":"i1"}],"containers":[{"name":"a"}]},
    "status":{"phase":"Pending","initContainerStatuses":[
      {"name":"i1","state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}})"),
            "Init:Error");
  EXPECT_EQ(status(R"({"spec":{"initContainers":[{"name":"i1"}],"containers":[{"name":"a"}]},
    "status":{"phase":"Pending","initContainerStatuses":[
      {"name":"i1","state":{"waiting":{"reason":"ErrImagePull"}}}]}})"),
            "Init:ErrImagePull");
  // A sidecar (restartable init container) counts towards READY.
  json::array r = row(R"({"spec":{"initContainers":[{"name":"side","restartPolicy":"Always"}],
    "containers":[{"name":"a"}]},"status":{"phase":"Running",
    "conditions":[{"type":"Initialized","status":"True"}],
    "initContainerStatuses":[{"name":"side","started":true,"ready":true,"restartCount":1,
      "state":{"running":{}}}],
    "containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}}]}})");
  EXPECT_EQ(text(r[1]), "2/2");
  EXPECT_EQ(text(r[2]), "Running");
  EXPECT_EQ(text(r[3]), "1");
}

TEST_F(PodRows, TerminatingAndSpecialReasons) {
  EXPECT_EQ(status(R"({"metadata":{"deletionTimestamp":"2024-03-01T11:59:00Z"},
    "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","containerStatuses":[
      {"name":"a","ready":true,"state":{"running":{}}}]}})"),
            "Terminating");
  // Terminal pods keep their phase while being deleted.
  EXPECT_EQ(status(R"({"metadata":{"deletionTimestamp":"2024-03-01T11:59:00Z"},
    "spec":{"containers":[]},"status":{"phase":"Succeeded"}})"),
            "Succeeded");
  EXPECT_EQ(status(R"({"metadata":{"deletionTimestamp":"2024-03-01T11:59:00Z"},
    "spec":{"containers":[]},"status":{"phase":"Running","reason":"NodeLost"}})"),
            "Unknown");
  EXPECT_EQ(status(R"({"spec":{"containers":[]},"status":{"phase":"Failed",
    "reason":"Evicted"}})"),
            "Evicted");
  EXPECT_EQ(status(R"({"spec":{"containers":[]},"status":{"phase":"Pending","conditions":[
    {"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})"),
            "SchedulingGated");
}

TEST_F(PodRows, ReadinessGates) {
  json::array r = row(R"({"spec":{"containers":[],"readinessGates":[
      {"conditionType":"lb/ready"},{"conditionType":"other"}]},
    "status":{"conditions":[{"type":"lb/ready","status":"True"}]}})");
  EXPECT_EQ(text(r[8]), "1/2");
}

TEST_F(PodRows, MalformedInputDoesNotCrash) {
  for (std::string_view bad : {R"({})", R"({"metadata":5,"spec":[],"status":"x"})",
                               R"({"spec":{"containers":[1,"a",null]},"status":{
         "containerStatuses":[7,{"state":[]}],"initContainerStatuses":{"x":1}}})"}) {
    json::array r = row(bad);
    EXPECT_EQ(r.size(), 9u);
  }
}

// ---- services ----

TEST(ServiceRows, EachType) {
  const auto& svc = resource("", "v1", "services");
  auto row = [&](std::string_view s) { return rowCells(svc, parse(s), kNow); };

  json::array r = row(R"({"metadata":{"name":"web","creationTimestamp":"2024-03-01T10:00:00Z"},
    "spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
      "selector":{"app":"web","tier":"fe"},
      "ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}})");
  EXPECT_EQ(text(r[1]), "ClusterIP");
  EXPECT_EQ(text(r[2]), "10.96.0.10");
  EXPECT_EQ(text(r[3]), "<none>");
  EXPECT_EQ(text(r[4]), "80/TCP,53/UDP");
  EXPECT_EQ(text(r[5]), "120m");  // under three hours upstream still counts minutes
  EXPECT_EQ(text(r[6]), "app=web,tier=fe");

  r = row(R"({"spec":{"type":"NodePort","clusterIPs":["10.96.1.1"],"externalIPs":["1.2.3.4"],
    "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}})");
  EXPECT_EQ(text(r[3]), "1.2.3.4");
  EXPECT_EQ(text(r[4]), "80:30080/TCP");
  EXPECT_EQ(text(r[6]), "<none>");

  r = row(R"({"spec":{"type":"LoadBalancer","clusterIPs":["10.96.1.2"],
    "ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]}})");
  EXPECT_EQ(text(r[3]), "<pending>");
  r = row(R"({"spec":{"type":"LoadBalancer","clusterIPs":["10.96.1.2"],"externalIPs":["9.9.9.9"]},
    "status":{"loadBalancer":{"ingress":[{"ip":"5.6.7.8"},{"hostname":"lb.example"},
      {"ip":"1.1.1.1"}]}}})");
  EXPECT_EQ(text(r[3]), "1.1.1.1,5.6.7.8,lb.example,9.9.9.9");
  EXPECT_EQ(text(r[4]), "<none>");

  r = row(R"({"spec":{"type":"ExternalName","externalName":"db.example.com"}})");
  EXPECT_EQ(text(r[2]), "<none>");
  EXPECT_EQ(text(r[3]), "db.example.com");

  r = row(R"({"spec":{"clusterIP":"None","clusterIPs":["None"],"ports":[{"port":80}]}})");
  EXPECT_EQ(text(r[1]), "ClusterIP");
  EXPECT_EQ(text(r[2]), "None");
  EXPECT_EQ(text(r[4]), "80/TCP");
}

// ---- workloads ----

TEST(WorkloadRows, Deployment) {
  const auto& d = resource("apps", "v1", "deployments");
  json::array r = rowCells(d, parse(R"({"metadata":{"name":"web",
      "creationTimestamp":"2024-02-29T12:00:00Z"},
    "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
      "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"},
        {"name":"side","image":"busybox"}]}}},
    "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})"),
                           kNow);
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(text(r[1]), "2/3");
  EXPECT_EQ(r[2], json::value(3));
  EXPECT_EQ(r[3], json::value(2));
  EXPECT_EQ(text(r[4]), "24h");
  EXPECT_EQ(text(r[5]), "nginx,side");
  EXPECT_EQ(text(r[6]), "nginx:1.25,busybox");
  EXPECT_EQ(text(r[7]), "app=web");
  // No status yet: zeros.
  r = rowCells(d, parse(R"({"spec":{"replicas":1}})"), kNow);
  EXPECT_EQ(text(r[1]), "0/1");
  EXPECT_EQ(r[2], json::value(0));
}

TEST(WorkloadRows, ReplicaSetDaemonSetStatefulSet) {
  json::array r = rowCells(resource("apps", "v1", "replicasets"),
                           parse(R"({"spec":{"replicas":2,"selector":{"matchLabels":
      {"pod-template-hash":"abc","app":"web"}}},"status":{"replicas":2,"readyReplicas":1}})"),
                           kNow);
  EXPECT_EQ(r[1], json::value(2));
  EXPECT_EQ(r[2], json::value(2));
  EXPECT_EQ(r[3], json::value(1));
  EXPECT_EQ(text(r[7]), "app=web,pod-template-hash=abc");

  const auto& ds = resource("apps", "v1", "daemonsets");
  r = rowCells(ds, parse(R"({"spec":{"template":{"spec":{"nodeSelector":
      {"kubernetes.io/os":"linux"}}}},"status":{"desiredNumberScheduled":3,
      "currentNumberScheduled":3,"numberReady":2,"updatedNumberScheduled":3,
      "numberAvailable":2}})"),
               kNow);
  EXPECT_EQ(cell(ds, r, "Ready"), json::value(2));
  EXPECT_EQ(text(cell(ds, r, "Node Selector")), "kubernetes.io/os=linux");

  r = rowCells(resource("apps", "v1", "statefulsets"),
               parse(R"({"spec":{"replicas":3},"status":{"readyReplicas":3}})"), kNow);
  EXPECT_EQ(text(r[1]), "3/3");
}

TEST(WorkloadRows, Jobs) {
  const auto& jobs = resource("batch", "v1", "jobs");
  json::array r = rowCells(jobs, parse(R"({"spec":{"completions":3},"status":{"succeeded":3,
      "startTime":"2024-03-01T11:00:00Z","completionTime":"2024-03-01T11:00:42Z",
      "conditions":[{"type":"Complete","status":"True"}]}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "Complete");
  EXPECT_EQ(text(r[2]), "3/3");
  EXPECT_EQ(text(r[3]), "42s");
  r = rowCells(jobs, parse(R"({"spec":{"parallelism":4},"status":{
      "startTime":"2024-03-01T11:50:00Z"}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "Running");
  EXPECT_EQ(text(r[2]), "0/1 of 4");
  EXPECT_EQ(text(r[3]), "10m");
  r = rowCells(jobs, parse(R"({"status":{"conditions":[{"type":"Failed","status":"True"}]}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "Failed");
  EXPECT_EQ(text(r[3]), "");
  r = rowCells(jobs, parse(R"({"spec":{"suspend":true},"status":{"conditions":[
      {"type":"Suspended","status":"True"}]}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "Suspended");
}

TEST(WorkloadRows, CronJob) {
  const auto& cj = resource("batch", "v1", "cronjobs");
  json::array r = rowCells(cj, parse(R"({"spec":{"schedule":"*/5 * * * *","suspend":false},
      "status":{"active":[{"name":"a"}],"lastScheduleTime":"2024-03-01T11:55:00Z"}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "*/5 * * * *");
  EXPECT_EQ(text(r[2]), "<none>");
  EXPECT_EQ(text(r[3]), "False");
  EXPECT_EQ(r[4], json::value(1));
  EXPECT_EQ(text(r[5]), "5m");
  r = rowCells(cj, parse(R"({"spec":{"schedule":"@daily","timeZone":"Etc/UTC"}})"), kNow);
  EXPECT_EQ(text(r[2]), "Etc/UTC");
  EXPECT_EQ(text(r[3]), "<unset>");
  EXPECT_EQ(text(r[5]), "<none>");
}

TEST(WorkloadRows, HorizontalPodAutoscalers) {
  const auto& v2 = resource("autoscaling", "v2", "horizontalpodautoscalers");
  json::array r = rowCells(v2, parse(R"({"spec":{"scaleTargetRef":{"kind":"Deployment",
      "name":"web"},"minReplicas":1,"maxReplicas":10,"metrics":[{"type":"Resource",
      "resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]},
    "status":{"currentReplicas":2,"currentMetrics":[{"type":"Resource","resource":{
      "name":"cpu","current":{"averageUtilization":23}}}]}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "Deployment/web");
  EXPECT_EQ(text(r[2]), "cpu: 23%/50%");
  EXPECT_EQ(text(r[3]), "1");
  EXPECT_EQ(r[4], json::value(10));
  EXPECT_EQ(r[5], json::value(2));
  r = rowCells(v2, parse(R"({"spec":{"maxReplicas":3,"metrics":[
      {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization",
        "averageUtilization":80}}},
      {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue",
        "averageValue":"100Mi"}}},
      {"type":"Pods","pods":{"target":{"averageValue":"1k"}}}]}})"),
               kNow);
  EXPECT_EQ(text(r[2]), "cpu: <unknown>/80%, memory: <unknown>/100Mi + 1 more...");
  EXPECT_EQ(text(r[3]), "<unset>");
  r = rowCells(v2, parse(R"({"spec":{"maxReplicas":3}})"), kNow);
  EXPECT_EQ(text(r[2]), "<none>");

  const auto& v1 = resource("autoscaling", "v1", "horizontalpodautoscalers");
  r = rowCells(v1, parse(R"({"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},
      "maxReplicas":5,"targetCPUUtilizationPercentage":60},
      "status":{"currentCPUUtilizationPercentage":12}})"),
               kNow);
  EXPECT_EQ(text(r[2]), "cpu: 12%/60%");
}

// ---- other kinds ----

TEST(OtherRows, NodesNamespacesEvents) {
  const auto& nodes = resource("", "v1", "nodes");
  json::array r = rowCells(nodes, parse(R"({"metadata":{"name":"n1","labels":{
      "node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/worker":""}},
    "spec":{"unschedulable":true},
    "status":{"conditions":[{"type":"MemoryPressure","status":"False"},
      {"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP",
      "address":"10.0.0.2"}],"nodeInfo":{"kubeletVersion":"v1.32.0",
      "osImage":"Debian GNU/Linux 12"}}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "Ready,SchedulingDisabled");
  EXPECT_EQ(text(r[2]), "control-plane,worker");
  EXPECT_EQ(text(r[4]), "v1.32.0");
  EXPECT_EQ(text(r[5]), "10.0.0.2");
  EXPECT_EQ(text(r[6]), "<none>");
  EXPECT_EQ(text(r[7]), "Debian GNU/Linux 12");
  EXPECT_EQ(text(r[8]), "<unknown>");
  r = rowCells(nodes, parse(R"({"status":{"conditions":[{"type":"Ready",
      "status":"Unknown"}]}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "NotReady");
  EXPECT_EQ(text(r[2]), "<none>");
  r = rowCells(nodes, parse(R"({})"), kNow);
  EXPECT_EQ(text(r[1]), "Unknown");

  r = rowCells(resource("", "v1", "namespaces"), parse(R"({"metadata":{"name":"default"},
      "status":{"phase":"Active"}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "Active");

  const auto& events = resource("", "v1", "events");
  r = rowCells(events, parse(R"({"metadata":{"name":"web.17a"},"type":"Normal",
      "reason":"Scheduled","message":" Successfully assigned default/web to n1\n",
      "involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{a}"},
      "source":{"component":"default-scheduler"},"count":3,
      "firstTimestamp":"2024-03-01T11:00:00Z","lastTimestamp":"2024-03-01T11:59:30Z"})"),
               kNow);
  EXPECT_EQ(text(r[0]), "30s");
  EXPECT_EQ(text(r[3]), "pod/web");
  EXPECT_EQ(text(r[4]), "spec.containers{a}");
  EXPECT_EQ(text(r[5]), "default-scheduler");
  EXPECT_EQ(text(r[6]), "Successfully assigned default/web to n1");
  EXPECT_EQ(text(r[7]), "60m");
  EXPECT_EQ(r[8], json::value(3));
  EXPECT_EQ(text(r[9]), "web.17a");
  // New-style event: only eventTime, reporting controller and instance; singleton count 1.
  r = rowCells(events, parse(R"({"eventTime":"2024-03-01T11:59:50.123456Z",
      "reportingComponent":"kubelet","reportingInstance":"n1",
      "involvedObject":{"kind":"Node"}})"),
               kNow);
  EXPECT_EQ(text(r[0]), "9s");
  EXPECT_EQ(text(r[3]), "node");
  EXPECT_EQ(text(r[5]), "kubelet, n1");
  EXPECT_EQ(r[8], json::value(1));

  r = rowCells(resource("events.k8s.io", "v1", "events"),
               parse(R"({"note":"hello","regarding":{"kind":"Deployment","name":"web"},
      "series":{"count":7,"lastObservedTime":"2024-03-01T11:59:00.000000Z"},
      "eventTime":"2024-03-01T11:00:00.000000Z","reportingController":"ctl"})"),
               kNow);
  EXPECT_EQ(text(r[0]), "60s");
  EXPECT_EQ(text(r[3]), "deployment/web");
  EXPECT_EQ(text(r[6]), "hello");
  EXPECT_EQ(r[8], json::value(7));
}

TEST(OtherRows, ConfigSecretsAccountsLeases) {
  json::array r = rowCells(resource("", "v1", "configmaps"),
                           parse(R"({"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})"), kNow);
  EXPECT_EQ(r[1], json::value(3));
  r = rowCells(resource("", "v1", "secrets"), parse(R"({"type":"Opaque","data":{"a":"MQ=="}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "Opaque");
  EXPECT_EQ(r[2], json::value(1));
  r = rowCells(resource("", "v1", "serviceaccounts"), parse(R"({})"), kNow);
  EXPECT_EQ(r[1], json::value(0));
  r = rowCells(resource("coordination.k8s.io", "v1", "leases"),
               parse(R"({"spec":{"holderIdentity":"node-1"}})"), kNow);
  EXPECT_EQ(text(r[1]), "node-1");
}

TEST(OtherRows, EndpointsAndSlices) {
  const auto& ep = resource("", "v1", "endpoints");
  json::array r = rowCells(ep, parse(R"({"subsets":[{"addresses":[{"ip":"10.0.0.1"},
      {"ip":"10.0.0.2"}],"ports":[{"port":80},{"port":443}]}]})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...");
  r = rowCells(ep, parse(R"({"subsets":[{"addresses":[{"ip":"fd00::1"}],
      "ports":[{"port":53}]}]})"),
               kNow);
  EXPECT_EQ(text(r[1]), "[fd00::1]:53");
  r = rowCells(ep, parse(R"({})"), kNow);
  EXPECT_EQ(text(r[1]), "<none>");

  const auto& slices = resource("discovery.k8s.io", "v1", "endpointslices");
  r = rowCells(slices, parse(R"({"addressType":"IPv4","ports":[{"port":80},{"name":"x"},{}],
      "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2","10.0.0.3",
      "10.0.0.4"]}]})"),
               kNow);
  EXPECT_EQ(text(r[1]), "IPv4");
  EXPECT_EQ(text(r[2]), "80,x,*");
  EXPECT_EQ(text(r[3]), "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...");
  r = rowCells(slices, parse(R"({"addressType":"IPv4"})"), kNow);
  EXPECT_EQ(text(r[2]), "<unset>");
}

TEST(OtherRows, IngressAndClasses) {
  const auto& ing = resource("networking.k8s.io", "v1", "ingresses");
  json::array r = rowCells(ing, parse(R"({"spec":{"ingressClassName":"nginx","rules":[
      {"host":"a.example"},{"host":"b.example"},{},{"host":"c.example"},{"host":"d.example"}],
      "tls":[{"hosts":["a.example"]}]},"status":{"loadBalancer":{"ingress":[
      {"ip":"192.168.1.10"}]}}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "nginx");
  EXPECT_EQ(text(r[2]), "a.example,b.example,c.example + 2 more...");
  EXPECT_EQ(text(r[3]), "192.168.1.10");
  EXPECT_EQ(text(r[4]), "80, 443");
  r = rowCells(ing, parse(R"({"spec":{"rules":[{}]}})"), kNow);
  EXPECT_EQ(text(r[1]), "<none>");
  EXPECT_EQ(text(r[2]), "*");
  EXPECT_EQ(text(r[4]), "80");

  r = rowCells(resource("networking.k8s.io", "v1", "ingressclasses"),
               parse(R"({"spec":{"controller":"k8s.io/ingress-nginx","parameters":{
      "apiGroup":"k8s.example.com","kind":"IngressParameters","name":"p"}}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "k8s.io/ingress-nginx");
  EXPECT_EQ(text(r[2]), "IngressParameters.k8s.example.com/p");

  const auto& netpol = resource("networking.k8s.io", "v1", "networkpolicies");
  r = rowCells(netpol, parse(R"({"spec":{"podSelector":{"matchLabels":{"app":"web"}}}})"), kNow);
  EXPECT_EQ(text(r[1]), "app=web");
  r = rowCells(netpol, parse(R"({"spec":{"podSelector":{}}})"), kNow);
  EXPECT_EQ(text(r[1]), "<none>");
}

TEST(OtherRows, PolicyRbacQuotaRevisions) {
  json::array r = rowCells(resource("policy", "v1", "poddisruptionbudgets"),
                           parse(R"({"spec":{"minAvailable":"50%"},
      "status":{"disruptionsAllowed":1}})"),
                           kNow);
  EXPECT_EQ(text(r[1]), "50%");
  EXPECT_EQ(text(r[2]), "N/A");
  EXPECT_EQ(r[3], json::value(1));

  r = rowCells(resource("scheduling.k8s.io", "v1", "priorityclasses"),
               parse(R"({"value":1000,"globalDefault":true,
      "preemptionPolicy":"PreemptLowerPriority"})"),
               kNow);
  EXPECT_EQ(r[1], json::value(1000));
  EXPECT_EQ(r[2], json::value(true));
  EXPECT_EQ(text(r[4]), "PreemptLowerPriority");

  r = rowCells(resource("rbac.authorization.k8s.io", "v1", "rolebindings"),
               parse(R"({"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[
      {"kind":"User","name":"alice"},{"kind":"User","name":"bob"},
      {"kind":"ServiceAccount","name":"sa","namespace":"ns"},{"kind":"Group","name":"g"}]})"),
               kNow);
  EXPECT_EQ(text(r[1]), "ClusterRole/view");
  EXPECT_EQ(text(r[3]), "alice, bob");
  EXPECT_EQ(text(r[4]), "g");
  EXPECT_EQ(text(r[5]), "ns/sa");

  r = rowCells(resource("rbac.authorization.k8s.io", "v1", "clusterroles"),
               parse(R"({"metadata":{"name":"view",
      "creationTimestamp":"2024-01-02T03:04:05Z"}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "2024-01-02T03:04:05Z");

  r = rowCells(resource("", "v1", "resourcequotas"),
               parse(R"({"status":{"hard":{"pods":"10","limits.cpu":"2","requests.cpu":"1",
      "limits.memory":"1Gi"},"used":{"pods":"3","limits.cpu":"500m"}}})"),
               kNow);
  EXPECT_EQ(text(r[1]), "pods: 3/10, requests.cpu: 0/1");
  EXPECT_EQ(text(r[2]), "limits.cpu: 500m/2, limits.memory: 0/1Gi");

  r = rowCells(resource("apps", "v1", "controllerrevisions"),
               parse(R"({"metadata":{"name":"web-5d8","ownerReferences":[
      {"apiVersion":"apps/v1","kind":"DaemonSet","name":"web","controller":true}]},
      "revision":4})"),
               kNow);
  EXPECT_EQ(text(r[1]), "daemonset.apps/web");
  EXPECT_EQ(r[2], json::value(4));

  r = rowCells(resource("", "v1", "replicationcontrollers"),
               parse(R"({"spec":{"replicas":2,"selector":{"app":"x"}},
      "status":{"replicas":2,"readyReplicas":2}})"),
               kNow);
  EXPECT_EQ(r[1], json::value(2));
  EXPECT_EQ(text(r[7]), "app=x");
}

}  // namespace
}  // namespace berth::apiserver::printers
