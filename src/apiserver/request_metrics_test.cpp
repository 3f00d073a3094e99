// Request accounting: RequestInfo as upstream derives it, and the metrics one request leaves.
#include "apiserver/request_metrics.h"

#include <gtest/gtest.h>

#include "apiserver/http/fake_writer.h"
#include "metrics/parse.h"

namespace berth::apiserver {
namespace {

http::Request makeRequest(std::string method, std::string path,
                          std::multimap<std::string, std::string> query = {}) {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

// "verb REPORTED group/version/resource/subresource namespace/name scope [long] [mutating]"
std::string describe(const RequestInfo& info) {
  return info.verb + " " + info.reportedVerb + " " + info.group + "/" + info.version + "/" +
         info.resource + "/" + info.subresource + " " + info.namespace_ + "/" + info.name + " " +
         info.scope + (info.longRunning ? " long" : "") + (info.mutating ? " mutating" : "");
}

TEST(RequestInfoTest, ResourceRequestsAsUpstreamParsesThem) {
  // method, path, query, what upstream's RequestInfoFactory and metrics make of it
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      {"GET", "/api/v1/namespaces/default/pods", "", "list LIST /v1/pods/ default/ namespace"},
      {"GET", "/api/v1/pods", "", "list LIST /v1/pods/ / cluster"},
      {"GET", "/api/v1/namespaces/default/pods/web", "", "get GET /v1/pods/ default/web resource"},
      {"GET", "/api/v1/pods", "true", "watch WATCH /v1/pods/ / cluster long"},
      {"GET", "/api/v1/pods", "false", "list LIST /v1/pods/ / cluster"},
      {"GET", "/api/v1/watch/namespaces/ns1/pods", "", "watch WATCH /v1/pods/ ns1/ namespace long"},
      {"POST", "/apis/apps/v1/namespaces/default/deployments", "",
       "create POST apps/v1/deployments/ default/ resource mutating"},
      {"PUT", "/apis/apps/v1/namespaces/default/deployments/d/status", "",
       "update PUT apps/v1/deployments/status default/d resource mutating"},
      {"DELETE", "/api/v1/namespaces/default/configmaps", "",
       "deletecollection DELETE /v1/configmaps/ default/ namespace mutating"},
      {"DELETE", "/api/v1/namespaces/gone", "",
       "delete DELETE /v1/namespaces/ gone/gone resource mutating"},
      {"PUT", "/api/v1/namespaces/gone/finalize", "",
       "update PUT /v1/namespaces/finalize gone/gone resource mutating"},
      {"GET", "/api/v1/namespaces/default/pods/web/log", "",
       "get CONNECT /v1/pods/log default/web resource long"},
      {"POST", "/api/v1/namespaces/default/pods/web/exec", "",
       "create CONNECT /v1/pods/exec default/web resource long mutating"},
  };
  for (const auto& [method, path, watch, want] : cases) {
    std::multimap<std::string, std::string> query;
    if (!watch.empty()) query.emplace("watch", watch);
    RequestInfo info = requestInfoFor(makeRequest(method, path, query));
    EXPECT_TRUE(info.isResourceRequest) << path;
    EXPECT_EQ(describe(info), want) << method << " " << path;
    EXPECT_NE(info.type, nullptr) << path;
  }
}

TEST(RequestInfoTest, ApplyDryRunAndNonResourcePaths) {
  auto apply = makeRequest("PATCH", "/api/v1/namespaces/a/configmaps/c", {{"dryRun", "All"}});
  apply.headers["content-type"] = "application/apply-patch+yaml";
  RequestInfo info = requestInfoFor(apply);
  EXPECT_EQ(info.reportedVerb, "APPLY");
  EXPECT_EQ(info.dryRun, "All");
  EXPECT_EQ(
      requestInfoFor(makeRequest("POST", "/api/v1/namespaces/a/configmaps", {{"dryRun", "bogus"}}))
          .dryRun,
      "invalid");
  RequestInfo discovery = requestInfoFor(makeRequest("GET", "/apis/apps/v1"));
  EXPECT_FALSE(discovery.isResourceRequest);
  EXPECT_EQ(discovery.scope, "");
  EXPECT_EQ(discovery.reportedVerb, "GET");
  EXPECT_EQ(requestInfoFor(makeRequest("BREW", "/api/v1/pods")).reportedVerb, "other");
  EXPECT_EQ(requestInfoFor(makeRequest("GET", "/api/v1/frobs")).type, nullptr);
}

class RequestMetricsTest : public ::testing::Test {
 protected:
  // Serves one request through the instrumented handler, answering `code`.
  void serve(http::Request request, int code) {
    http::testing::FakeWriter writer;
    requests_.instrument(request, writer, [&](http::Request&, http::ResponseWriter& w) {
      // While the handler runs, the request is in flight (or long-running).
      metrics::ParsedText during = scrape();
      inflightDuring_ =
          during.value("apiserver_current_inflight_requests", {{"request_kind", "readOnly"}})
              .value_or(-1);
      watchersDuring_ =
          during.value("apiserver_registered_watchers", {{"kind", "Pod"}}).value_or(0);
      w.send(code, "application/json", "{}");
    });
    EXPECT_EQ(writer.status, code);
  }

  metrics::ParsedText scrape() {
    std::string error;
    auto text = metrics::parseText(registry_.encode(), &error);
    EXPECT_TRUE(text) << error;
    return text ? *text : metrics::ParsedText{};
  }

  metrics::Registry registry_;
  RequestMetrics requests_{registry_};
  double inflightDuring_ = 0;
  double watchersDuring_ = 0;
};

TEST_F(RequestMetricsTest, CountsRequestsByVerbResourceAndCode) {
  serve(makeRequest("GET", "/api/v1/namespaces/default/pods"), 200);
  serve(makeRequest("GET", "/api/v1/namespaces/default/pods"), 200);
  serve(makeRequest("GET", "/api/v1/namespaces/default/pods/missing"), 404);
  EXPECT_EQ(inflightDuring_, 1);
  auto text = scrape();
  EXPECT_EQ(text.value("apiserver_request_total", {{"verb", "LIST"},
                                                   {"resource", "pods"},
                                                   {"scope", "namespace"},
                                                   {"component", "apiserver"},
                                                   {"code", "200"},
                                                   {"group", ""},
                                                   {"version", "v1"}}),
            2);
  EXPECT_EQ(text.value("apiserver_request_total",
                       {{"verb", "GET"}, {"resource", "pods"}, {"code", "404"}}),
            1);
  EXPECT_EQ(text.value("apiserver_request_duration_seconds_count",
                       {{"verb", "LIST"}, {"resource", "pods"}}),
            2);
  EXPECT_EQ(text.value("apiserver_current_inflight_requests", {{"request_kind", "readOnly"}}), 0);
}

TEST_F(RequestMetricsTest, WatchesAreLongRunningNotInflight) {
  serve(makeRequest("GET", "/api/v1/pods", {{"watch", "1"}}), 200);
  EXPECT_EQ(inflightDuring_, 0);
  EXPECT_EQ(watchersDuring_, 1);
  auto text = scrape();
  EXPECT_EQ(text.value("apiserver_registered_watchers", {{"kind", "Pod"}}), 0);
  EXPECT_EQ(text.value("apiserver_longrunning_requests", {{"verb", "WATCH"}}), 0);
  EXPECT_EQ(text.value("apiserver_request_total", {{"verb", "WATCH"}, {"code", "200"}}), 1);
}

TEST_F(RequestMetricsTest, MadeUpPathsLeaveNoSeries) {
  serve(makeRequest("GET", "/api/v1/frobnicators"), 404);
  serve(makeRequest("GET", "/some/random/path"), 404);
  serve(makeRequest("GET", "/apis/nosuch.group"), 404);
  serve(makeRequest("GET", "/livez"), 200);
  auto text = scrape();
  const metrics::ParsedFamily* total = text.family("apiserver_request_total");
  ASSERT_NE(total, nullptr);
  ASSERT_EQ(total->samples.size(), 1u);
  EXPECT_EQ(total->samples[0].labels.at("subresource"), "/livez");
  EXPECT_EQ(total->samples[0].labels.at("component"), "");
  serve(makeRequest("GET", "/api/v1/namespaces/a/pods/p/madeup"), 404);  // not a subresource
  serve(makeRequest("GET", "/api/v1/anonymousjunk"), 401);  // anonymous callers get 401
  EXPECT_EQ(scrape().family("apiserver_request_total")->samples.size(), 1u);
  // A resource the catalogue does not know but something served (a custom resource) counts.
  auto custom = makeRequest("GET", "/apis/example.com/v1/widgets");
  custom.user.name = "alice";
  serve(custom, 200);
  EXPECT_EQ(scrape().value("apiserver_request_total", {{"resource", "widgets"}}), 1);
}

TEST_F(RequestMetricsTest, HandlerThatNeverAnswersCountsAs500) {
  http::testing::FakeWriter writer;
  auto request = makeRequest("GET", "/api/v1/namespaces");
  requests_.instrument(request, writer, [](http::Request&, http::ResponseWriter&) {});
  EXPECT_EQ(
      scrape().value("apiserver_request_total", {{"resource", "namespaces"}, {"code", "500"}}), 1);
}

}  // namespace
}  // namespace berth::apiserver
