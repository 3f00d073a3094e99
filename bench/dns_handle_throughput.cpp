// Queries per second of the DNS server's own work (decode, zone lookup, encode: Server::handle)
// on one thread, without the kernel's UDP path, for a zone of N Services. Together with
// bench/dns_qps.sh (the whole server over loopback UDP) it tells how much of a query's cost is
// Berth's and how much the network stack's.
//
//   build/bench/dns_handle_throughput [services=1000] [seconds=3]
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dns/server.h"

using namespace berth;

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  double seconds = argc > 2 ? std::atof(argv[2]) : 3;
  std::vector<client::ObjectPtr> services;
  for (int i = 0; i < n; ++i) {
    boost::json::object svc{
        {"metadata", {{"name", "svc-" + std::to_string(i)}, {"namespace", "bench"}}},
        {"spec",
         {{"clusterIP", "10.96." + std::to_string(i / 250 + 1) + "." + std::to_string(i % 250)},
          {"ports", boost::json::array{boost::json::object{{"name", "http"}, {"port", 80}}}}}}};
    services.push_back(std::make_shared<const boost::json::value>(std::move(svc)));
  }
  auto build0 = std::chrono::steady_clock::now();
  auto zone = dns::ZoneData::build({}, services, {}, 1);
  std::chrono::duration<double> buildTime = std::chrono::steady_clock::now() - build0;
  metrics::Registry registry;
  dns::Server server({}, [zone] { return zone; }, nullptr, registry);
  std::vector<std::string> queries;
  for (int i = 0; i < n; ++i) {
    dns::Message q;
    q.header.id = static_cast<uint16_t>(i);
    q.header.rd = true;
    q.questions.push_back({"svc-" + std::to_string(i) + ".bench.svc.cluster.local", dns::type::kA,
                           dns::kClassIN});
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
  std::printf("services: %d, zone build: %.1f ms, handle(): %.0f queries/s on one thread "
              "(%.2f us/query, %zu reply bytes)\n",
              n, buildTime.count() * 1000, done / elapsed.count(),
              elapsed.count() * 1e6 / static_cast<double>(done), bytes);
  return 0;
}
