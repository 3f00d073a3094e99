// Decode throughput of a large Deployment (many containers, many env vars): the protobuf
// transcoder (k8s envelope → boost::json::object) against parsing the same object's JSON text
// with boost::json, in the same run. Bytes/s are of each wire form, items/s are objects.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>

#include "apiserver/protobuf/codec.h"

namespace {

namespace json = boost::json;
namespace pb = berth::apiserver::protobuf;

json::object largeDeployment(int containers, int envPerContainer) {
  json::array cs;
  for (int c = 0; c < containers; ++c) {
    json::array env;
    for (int e = 0; e < envPerContainer; ++e) {
      env.push_back(json::object{{"name", "VAR_" + std::to_string(e)},
                                 {"value", "value-of-variable-" + std::to_string(c * 1000 + e)}});
    }
    env.push_back(json::object{
        {"name", "POD_NAME"},
        {"valueFrom", json::object{{"fieldRef", json::object{{"fieldPath", "metadata.name"}}}}}});
    cs.push_back(json::object{
        {"name", "container-" + std::to_string(c)},
        {"image", "registry.example.com/team/app:" + std::to_string(c)},
        {"args", json::array{"--port=8080", "--verbose"}},
        {"ports", json::array{json::object{
                      {"name", "http"}, {"containerPort", 8080 + c}, {"protocol", "TCP"}}}},
        {"env", std::move(env)},
        {"resources", json::object{{"limits", json::object{{"cpu", "500m"}, {"memory", "256Mi"}}},
                                   {"requests", json::object{{"cpu", "100m"}}}}},
        {"readinessProbe",
         json::object{{"httpGet", json::object{{"path", "/ready"}, {"port", "http"}}},
                      {"periodSeconds", 5}}},
        {"volumeMounts", json::array{json::object{{"name", "data"}, {"mountPath", "/data"}}}},
    });
  }
  return json::object{
      {"kind", "Deployment"},
      {"apiVersion", "apps/v1"},
      {"metadata", json::object{{"name", "big"},
                                {"namespace", "default"},
                                {"labels", json::object{{"app", "big"}, {"tier", "backend"}}},
                                {"creationTimestamp", "2024-01-02T03:04:05Z"}}},
      {"spec",
       json::object{
           {"replicas", 3},
           {"selector", json::object{{"matchLabels", json::object{{"app", "big"}}}}},
           {"template",
            json::object{{"metadata", json::object{{"labels", json::object{{"app", "big"}}}}},
                         {"spec", json::object{{"containers", std::move(cs)},
                                               {"volumes", json::array{json::object{
                                                               {"name", "data"},
                                                               {"emptyDir", json::object{}}}}}}}}},
           {"strategy", json::object{{"type", "RollingUpdate"},
                                     {"rollingUpdate",
                                      json::object{{"maxSurge", "25%"}, {"maxUnavailable", 0}}}}}}},
  };
}

struct Fixture {
  std::string protobuf;
  std::string jsonText;
  Fixture() {
    json::object obj = largeDeployment(50, 40);
    protobuf = *pb::encodeEnvelope(obj);
    jsonText = json::serialize(obj);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_DecodeProtobuf(benchmark::State& state) {
  const std::string& body = fixture().protobuf;
  for (auto _ : state) {
    auto obj = pb::decodeEnvelope(body);
    if (!obj.ok()) state.SkipWithError(obj.status().message().c_str());
    benchmark::DoNotOptimize(obj);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["wire_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_DecodeProtobuf);

void BM_ParseJson(benchmark::State& state) {
  const std::string& text = fixture().jsonText;
  for (auto _ : state) {
    json::value v = json::parse(text);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["wire_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_ParseJson);

void BM_EncodeProtobuf(benchmark::State& state) {
  json::object obj = json::parse(fixture().jsonText).as_object();
  for (auto _ : state) {
    auto bytes = pb::encodeEnvelope(obj);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeProtobuf);

}  // namespace

BENCHMARK_MAIN();
