// Cost of answering one object in each negotiated media type, from the serialized JSON the
// watch cache holds (encodeResponse, the function the API handler calls): JSON is a copy plus
// the trailing newline; protobuf parses the JSON and encodes the k8s envelope; YAML parses and
// emits. Also the zero-value fill done once per write (addGoZeroValues). Same run, same object:
// a Deployment of 4 containers with 10 env vars each (about 7 KB of JSON, a typical large object)
// and a Pod as a controller writes it (about 1.5 KB).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <string>

#include "apiserver/negotiation.h"
#include "apiserver/protobuf/zero_values.h"

namespace {

namespace json = boost::json;
using berth::apiserver::MediaKind;
using berth::apiserver::OutputMedia;

json::object deployment() {
  json::array cs;
  for (int c = 0; c < 4; ++c) {
    json::array env;
    for (int e = 0; e < 10; ++e)
      env.push_back(json::object{{"name", "VAR_" + std::to_string(e)},
                                 {"value", "value-" + std::to_string(c * 100 + e)}});
    cs.push_back(json::object{
        {"name", "c" + std::to_string(c)},
        {"image", "registry.example.com/app:" + std::to_string(c)},
        {"ports", json::array{json::object{{"containerPort", 8080 + c}, {"protocol", "TCP"}}}},
        {"env", std::move(env)},
        {"resources", json::object{{"limits", json::object{{"cpu", "500m"}, {"memory", "256Mi"}}}}},
        {"terminationMessagePath", "/dev/termination-log"},
        {"imagePullPolicy", "IfNotPresent"}});
  }
  json::object d{
      {"kind", "Deployment"},
      {"apiVersion", "apps/v1"},
      {"metadata", json::object{{"name", "web"},
                                {"namespace", "default"},
                                {"uid", "3f1c2b9e-7d7e-4b4f-9a51-0c6f5d6f1a11"},
                                {"resourceVersion", "123456"},
                                {"generation", 3},
                                {"labels", json::object{{"app", "web"}}},
                                {"creationTimestamp", "2024-01-02T03:04:05Z"}}},
      {"spec",
       json::object{
           {"replicas", 3},
           {"selector", json::object{{"matchLabels", json::object{{"app", "web"}}}}},
           {"template",
            json::object{{"metadata", json::object{{"labels", json::object{{"app", "web"}}}}},
                         {"spec", json::object{{"containers", std::move(cs)},
                                               {"restartPolicy", "Always"}}}}}}},
      {"status", json::object{{"replicas", 3}, {"readyReplicas", 3}, {"observedGeneration", 3}}}};
  berth::apiserver::protobuf::addGoZeroValues(d);
  return d;
}

json::object pod() {
  json::object p{
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata",
       json::object{{"name", "web-7d4b9c-x2k4p"},
                    {"namespace", "default"},
                    {"uid", "8a1c2b9e-7d7e-4b4f-9a51-0c6f5d6f1a22"},
                    {"resourceVersion", "123457"},
                    {"labels", json::object{{"app", "web"}, {"pod-template-hash", "7d4b9c"}}},
                    {"creationTimestamp", "2024-01-02T03:04:05Z"}}},
      {"spec", json::object{{"nodeName", "node-1"},
                            {"containers",
                             json::array{json::object{{"name", "c"}, {"image", "nginx:1.25"}}}}}},
      {"status", json::object{{"phase", "Running"},
                              {"podIP", "10.244.1.7"},
                              {"conditions",
                               json::array{json::object{{"type", "Ready"}, {"status", "True"}}}}}}};
  berth::apiserver::protobuf::addGoZeroValues(p);
  return p;
}

void respond(benchmark::State& state, const json::object& obj, MediaKind kind) {
  const std::string text = json::serialize(obj);
  OutputMedia media{kind};
  size_t out = 0;
  for (auto _ : state) {
    std::string contentType;
    std::string body = berth::apiserver::encodeResponse(media, text, contentType);
    out = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["json_bytes"] = double(text.size());
  state.counters["wire_bytes"] = double(out);
}

void BM_DeploymentJson(benchmark::State& s) { respond(s, deployment(), MediaKind::kJson); }
void BM_DeploymentProtobuf(benchmark::State& s) { respond(s, deployment(), MediaKind::kProtobuf); }
void BM_DeploymentYaml(benchmark::State& s) { respond(s, deployment(), MediaKind::kYaml); }
void BM_PodJson(benchmark::State& s) { respond(s, pod(), MediaKind::kJson); }
void BM_PodProtobuf(benchmark::State& s) { respond(s, pod(), MediaKind::kProtobuf); }
BENCHMARK(BM_DeploymentJson);
BENCHMARK(BM_DeploymentProtobuf);
BENCHMARK(BM_DeploymentYaml);
BENCHMARK(BM_PodJson);
BENCHMARK(BM_PodProtobuf);

// The write-path cost of Go's zero fields: one walk of the object against the schema.
void BM_AddGoZeroValuesDeployment(benchmark::State& state) {
  const json::object obj = deployment();
  for (auto _ : state) {
    json::object copy = obj;
    berth::apiserver::protobuf::addGoZeroValues(copy);
    benchmark::DoNotOptimize(copy);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddGoZeroValuesDeployment);

void BM_CopyDeployment(benchmark::State& state) {  // reference: the copy alone
  const json::object obj = deployment();
  for (auto _ : state) {
    json::object copy = obj;
    benchmark::DoNotOptimize(copy);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CopyDeployment);

}  // namespace

BENCHMARK_MAIN();
