#include "ingress/nginx_config.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::ingress {
namespace {

namespace json = boost::json;

json::object ingress(const std::string& name, const std::string& created, const std::string& rules,
                     const std::string& extra = "") {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"web","creationTimestamp":")" +
                     created + R"("},"spec":{"rules":)" + rules + extra + "}}")
      .as_object();
}

NginxInput input(std::vector<json::object> ings) {
  NginxInput in;
  in.ingresses = std::move(ings);
  in.stateDir = "/run/x";
  in.endpoints = [](const std::string& ns, const std::string& svc, const std::string& port) {
    if (svc == "empty") return std::vector<std::string>{};
    std::string p = port == "http" ? "8080" : port;
    return std::vector<std::string>{"10.244.0.2:" + p, "10.244.1.3:" + p};
  };
  in.tlsFiles = [](const std::string& ns, const std::string& secret) {
    if (secret == "missing") return std::pair<std::string, std::string>{};
    return std::pair<std::string, std::string>{"/run/x/" + secret + ".crt", "/run/x/" + secret + ".key"};
  };
  return in;
}

bool has(const std::string& conf, const std::string& text) {
  return conf.find(text) != std::string::npos;
}

TEST(NginxConfig, HostsPathsAndUpstreams) {
  auto conf = renderNginxConfig(input({ingress(
      "a", "2026-01-01T00:00:00Z",
      R"([{"host":"foo.example","http":{"paths":[
            {"path":"/api","pathType":"Prefix","backend":{"service":{"name":"api","port":{"number":80}}}},
            {"path":"/exact/","pathType":"Exact","backend":{"service":{"name":"web","port":{"name":"http"}}}}]}},
          {"host":"bar.example","http":{"paths":[
            {"path":"/","pathType":"Prefix","backend":{"service":{"name":"empty","port":{"number":80}}}}]}}])")}));
  EXPECT_TRUE(has(conf, "upstream u_web_api_80 {\n    server 10.244.0.2:80;\n    server 10.244.1.3:80;"))
      << conf;
  EXPECT_TRUE(has(conf, "upstream u_web_web_http {\n    server 10.244.0.2:8080;")) << conf;
  EXPECT_TRUE(has(conf, "server_name foo.example;")) << conf;
  // Prefix /api: /api itself and everything under /api/, not /apix.
  EXPECT_TRUE(has(conf, "location = /api { proxy_pass http://u_web_api_80; }")) << conf;
  EXPECT_TRUE(has(conf, "location /api/ { proxy_pass http://u_web_api_80; }")) << conf;
  EXPECT_TRUE(has(conf, "location = /exact/ { proxy_pass http://u_web_web_http; }")) << conf;
  EXPECT_FALSE(has(conf, "location /exact/ {")) << conf;
  // No endpoints: 503, not a dangling upstream.
  EXPECT_TRUE(has(conf, "server_name bar.example;\n    location / { return 503; }")) << conf;
  EXPECT_FALSE(has(conf, "u_web_empty")) << conf;
  // Unmatched paths: 404 (no default backend).
  EXPECT_TRUE(has(conf, "location / { return 404; }")) << conf;
}

TEST(NginxConfig, DefaultBackendTlsAndConflicts) {
  auto older = ingress("old", "2026-01-01T00:00:00Z",
                       R"([{"host":"foo.example","http":{"paths":[
            {"path":"/","pathType":"Prefix","backend":{"service":{"name":"first","port":{"number":80}}}}]}}])",
                       R"(,"tls":[{"hosts":["foo.example"],"secretName":"foo-tls"}],
            "defaultBackend":{"service":{"name":"fallback","port":{"number":8080}}})");
  auto newer = ingress("new", "2026-02-01T00:00:00Z",
                       R"([{"host":"foo.example","http":{"paths":[
            {"path":"/","pathType":"Prefix","backend":{"service":{"name":"second","port":{"number":80}}}}]}}])");
  auto conf = renderNginxConfig(input({newer, older}));
  EXPECT_TRUE(has(conf, "proxy_pass http://u_web_first_80")) << conf;
  EXPECT_FALSE(has(conf, "u_web_second_80")) << conf;  // the older Ingress keeps the path
  EXPECT_TRUE(has(conf, "listen 443 ssl;\n    server_name foo.example;\n    ssl_certificate /run/x/foo-tls.crt;"))
      << conf;
  EXPECT_TRUE(has(conf, "server_name _;\n    location / { proxy_pass http://u_web_fallback_8080; }"))
      << conf;
}

TEST(NginxConfig, HostileTextCannotInjectDirectives) {
  auto conf = renderNginxConfig(input({ingress(
      "evil", "2026-01-01T00:00:00Z",
      R"([{"host":"a.example; include /etc/passwd","http":{"paths":[
            {"path":"/x { return 200; } location /y","pathType":"Prefix","backend":{"service":{"name":"api","port":{"number":80}}}}]}}])")}));
  EXPECT_FALSE(has(conf, "include /etc/passwd")) << conf;
  EXPECT_FALSE(has(conf, "return 200")) << conf;
  EXPECT_FALSE(has(conf, "{ return 200; }")) << conf;
}

}  // namespace
}  // namespace berth::ingress
