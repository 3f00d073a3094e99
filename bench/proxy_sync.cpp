// Proxy sync time (issue 10's target: one endpoint change applied in < 50 ms at 10,000
// Services). Run it in a scratch network namespace (bench/proxy_sync.sh makes one): it programs
// nftables there. For N Services with an EndpointSlice of 3 endpoints each it measures
//   - the full sync (compute + `nft -f` recreating the table) through the Proxier,
//   - one endpoint change: from the slice update to the partial transaction applied,
// and, as references in the same run and table: `nft -f` of the same full rule text from a file
// (nft alone, no Berth), the cheapest nft transaction against that table (add + delete one
// element: what any change costs nft before Berth does anything) and `nft list table`.
//   proxy_sync [N...]   (default 1000 10000)
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "client/informer.h"
#include "client/rest_client.h"
#include "proxy/proxier.h"

namespace json = boost::json;
using namespace berth;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string serviceIP(int i) {
  return "10." + std::to_string(96 + i / 65000) + "." + std::to_string(i / 250 % 256) + "." +
         std::to_string(i % 250 + 1);
}
std::string podIP(int i, int e) {
  int n = i * 3 + e;
  return "10.244." + std::to_string(n / 250 % 256) + "." + std::to_string(n % 250 + 1);
}

client::ObjectPtr service(int i) {
  return std::make_shared<json::value>(json::object{
      {"metadata", {{"namespace", "bench"}, {"name", "svc-" + std::to_string(i)}}},
      {"spec",
       {{"clusterIP", serviceIP(i)},
        {"type", "ClusterIP"},
        {"ports", json::array{json::object{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}}}});
}

client::ObjectPtr slice(int i, const std::string& thirdIP) {
  json::array eps;
  for (int e = 0; e < 3; ++e)
    eps.push_back(json::object{{"addresses", json::array{json::string(e == 2 ? thirdIP : podIP(i, e))}},
                               {"nodeName", "node-a"},
                               {"conditions", {{"ready", true}}}});
  return std::make_shared<json::value>(json::object{
      {"metadata",
       {{"namespace", "bench"},
        {"name", "svc-" + std::to_string(i) + "-abc"},
        {"labels", {{"kubernetes.io/service-name", "svc-" + std::to_string(i)}}}}},
      {"addressType", "IPv4"},
      {"ports", json::array{json::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
      {"endpoints", eps}});
}

double timeCommand(const std::string& cmd) {
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  if (rc != 0) std::cerr << "reference command failed: " << cmd << "\n";
  return ms(Clock::now() - t0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(int n, client::RestClient& rest) {
  client::SharedInformer services(rest, {"", "v1", "services", true});
  client::SharedInformer slices(rest, {"discovery.k8s.io", "v1", "endpointslices", true});
  proxy::ProxierOptions options;
  options.rules.nodeName = "node-a";
  options.rules.table = "berth-proxy-bench";
  options.ensureServiceRoute = false;
  std::string lastFull;
  auto nft = proxy::commandRunner("nft");
  proxy::Proxier proxier(services, slices, options, [&](const std::string& tx) {
    if (tx.rfind("add table", 0) == 0) lastFull = tx;
    return nft(tx);
  });
  std::vector<client::ObjectPtr> svcs, sls;
  for (int i = 0; i < n; ++i) {
    svcs.push_back(service(i));
    sls.push_back(slice(i, podIP(i, 2)));
  }
  services.onReplace(svcs, "1");
  slices.onReplace(sls, "1");
  auto t0 = Clock::now();
  if (auto st = proxier.start(); !st.ok()) {
    std::cerr << st.message() << "\n";
    std::exit(1);
  }
  double full = ms(Clock::now() - t0);
  proxier.waitForSync(std::chrono::seconds(60));

  std::vector<double> change, applied;
  for (int r = 0; r < 7; ++r) {
    int i = (r * 7919) % n;
    // Past the min sync period: this measures one change, not the batching of a burst.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto before = proxier.stats();
    auto c0 = Clock::now();
    slices.onUpdate(slice(i, "10.245." + std::to_string(r) + ".9"));
    proxier.serviceChanged("bench/svc-" + std::to_string(i));
    proxier.waitForSync(std::chrono::seconds(10));
    change.push_back(ms(Clock::now() - c0));
    auto after = proxier.stats();
    if (after.partialSyncs != before.partialSyncs + 1 || after.fullSyncs != before.fullSyncs)
      std::cerr << "expected exactly one partial sync\n";
    applied.push_back(after.lastSync.count() / 1000.0);
  }
  proxier.stop();

  // References, in the same table state.
  std::string file = "/tmp/berth-proxy-bench-" + std::to_string(::getpid()) + ".nft";
  std::ofstream(file) << lastFull;
  double nftFull = timeCommand("nft -f " + file);
  std::ofstream(file) << "add element ip berth-proxy-bench cluster-ips { 10.99.99.99 }\n"
                         "delete element ip berth-proxy-bench cluster-ips { 10.99.99.99 }\n";
  std::vector<double> nftOne;
  for (int r = 0; r < 5; ++r) nftOne.push_back(timeCommand("nft -f " + file));
  double list = timeCommand("nft list table ip berth-proxy-bench > /dev/null");
  std::remove(file.c_str());
  std::system("nft delete table ip berth-proxy-bench");

  std::printf("%6d services (%d endpoints): full sync %8.1f ms (reference: nft -f of the same "
              "%zu-byte rule text %8.1f ms)\n",
              n, 3 * n, full, lastFull.size(), nftFull);
  std::printf("%6d services: one endpoint change, slice update -> applied: median %6.1f ms, max "
              "%6.1f ms (sync alone: median %6.1f ms); reference: one-element nft transaction "
              "%6.1f ms, nft list table %7.1f ms\n",
              n, median(change), *std::max_element(change.begin(), change.end()), median(applied),
              median(nftOne), list);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {1000, 10000};
  client::RestConfig config;
  config.server = "https://127.0.0.1:1";  // never contacted: the informers are fed directly
  auto rest = client::RestClient::create(config);
  if (!rest.ok()) return 1;
  for (int n : sizes) run(n, **rest);
  return 0;
}
