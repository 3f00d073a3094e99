// Queries per second of the DNS server's own work (decode, zone lookup, encode: Server::handle)
// on one thread, without the kernel's UDP path, for a zone of N Services. Together with
// bench/dns_qps.sh (the whole server over loopback UDP) it tells how much of a query's cost is
// Berth's and how much the network stack's.
//
// It also times the zone's upkeep: building it whole, and applying one Service's change (one
// endpoint of its EndpointSlice replaced).
//
//   build/bench/dns_handle_throughput [services=1000] [seconds=3] [endpoints-per-service=3]
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "dns/server.h"
#include "dns/zone.h"

using namespace berth;

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  double seconds = argc > 2 ? std::atof(argv[2]) : 3;
  int perService = argc > 3 ? std::atoi(argv[3]) : 3;
  std::vector<client::ObjectPtr> services, slices;
  auto sliceOf = [&](int i, int generation) {
    boost::json::array endpoints;
    for (int e = 0; e < perService; ++e)
      endpoints.push_back(boost::json::object{
          {"addresses",
           boost::json::array{"10." + std::to_string(100 + generation) + "." +
                              std::to_string(i / 250) + "." + std::to_string((i % 250) + e)}},
          {"conditions", {{"ready", true}}}});
    boost::json::object slice{
        {"metadata",
         {{"name", "svc-" + std::to_string(i) + "-abc"},
          {"namespace", "bench"},
          {"labels", {{"kubernetes.io/service-name", "svc-" + std::to_string(i)}}}}},
        {"addressType", "IPv4"},
        {"ports", boost::json::array{boost::json::object{{"name", "http"}, {"port", 8080}}}},
        {"endpoints", std::move(endpoints)}};
    return std::make_shared<const boost::json::value>(std::move(slice));
  };
  for (int i = 0; i < n; ++i) {
    slices.push_back(sliceOf(i, 0));
    boost::json::object svc{
        {"metadata", {{"name", "svc-" + std::to_string(i)}, {"namespace", "bench"}}},
        {"spec",
         {{"clusterIP", "10.96." + std::to_string(i / 250 + 1) + "." + std::to_string(i % 250)},
          {"ports", boost::json::array{boost::json::object{{"name", "http"}, {"port", 80}}}}}}};
    services.push_back(std::make_shared<const boost::json::value>(std::move(svc)));
  }
  auto build0 = std::chrono::steady_clock::now();
  auto zone = dns::ZoneData::build({}, services, slices, 1);
  std::chrono::duration<double> buildTime = std::chrono::steady_clock::now() - build0;
  // One endpoint change: the whole zone built again (what every change cost before incremental
  // updates), and the ZoneWriter's update of that one Service, as ClusterZone applies it.
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() / 2], v.back());
  };
  // Thread CPU time, not wall time: the machines these run on are shared and busy.
  auto cpuMs = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  std::vector<double> rebuildMs, updateMs;
  for (int round = 0; round < 5; ++round) {
    slices[n / 2] = sliceOf(n / 2, round + 1);
    double t0 = cpuMs();
    auto changed = dns::ZoneData::build({}, services, slices, 2);
    rebuildMs.push_back(cpuMs() - t0);
  }
  dns::ZoneWriter writer({});
  for (int i = 0; i < n; ++i) {
    std::vector<const boost::json::object*> own{&slices[i]->as_object()};
    writer.setService("bench/svc-" + std::to_string(i), &services[i]->as_object(), own);
  }
  auto published = writer.publish(1);
  std::shared_ptr<const dns::ZoneData> previous;
  for (int round = 0; round < 101; ++round) {
    // Another Service each round (and a new serial): the cost of an update, not of a cache hit.
    int i = (round * 7919) % n;
    slices[i] = sliceOf(i, round + 10);
    double t0 = cpuMs();
    std::vector<const boost::json::object*> own{&slices[i]->as_object()};
    writer.setService("bench/svc-" + std::to_string(i), &services[i]->as_object(), own);
    previous = std::exchange(published, writer.publish(static_cast<uint32_t>(3 + round)));
    updateMs.push_back(cpuMs() - t0);
  }
  auto [rebuildMedian, rebuildMax] = median(rebuildMs);
  auto [updateMedian, updateMax] = median(updateMs);
  std::printf(
      "one endpoint change (CPU time): full rebuild median %.2f ms (max %.2f), incremental update "
      "median %.3f ms (max %.3f); the new snapshot shares %zu of %zu shards with the one before\n",
      rebuildMedian, rebuildMax, updateMedian, updateMax, published->sharedShards(*previous),
      dns::ZoneData::kShards);
  metrics::Registry registry;
  dns::Server server(
      {}, [zone] { return zone; }, nullptr, registry);
  std::vector<std::string> queries;
  for (int i = 0; i < n; ++i) {
    dns::Message q;
    q.header.id = static_cast<uint16_t>(i);
    q.header.rd = true;
    q.questions.push_back(
        {"svc-" + std::to_string(i) + ".bench.svc.cluster.local", dns::type::kA, dns::kClassIN});
    queries.push_back(*dns::encode(q));
  }
  const std::function<dns::Server::Reply()> never = [] { return dns::Server::Reply(); };
  long long done = 0;
  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  std::chrono::duration<double> elapsed{};
  while (elapsed.count() < seconds) {
    for (const auto& q : queries) {
      auto r = server.handle(q, dns::Server::Proto::kUdp, never, AF_INET);
      bytes += r ? r->size() : 0;
    }
    done += static_cast<long long>(queries.size());
    elapsed = std::chrono::steady_clock::now() - start;
  }
  std::printf(
      "services: %d, zone build: %.1f ms, handle(): %.0f queries/s on one thread "
      "(%.2f us/query, %zu reply bytes)\n",
      n, buildTime.count() * 1000, done / elapsed.count(),
      elapsed.count() * 1e6 / static_cast<double>(done), bytes);
  return 0;
}
