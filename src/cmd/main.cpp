// berth: one binary, subcommands per role. `berth server` runs the control plane with the
// embedded store.
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "apiserver/api_server.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace {

int runServer(const berth::apiserver::ApiServerConfig& config, const std::string& datastore) {
  // Block the shutdown signals in every thread; this thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<berth::store::Interface> store;
  if (datastore == "sqlite") {
    std::filesystem::create_directories(config.dataDir + "/db");
    auto s = berth::store::SqliteStore::open(config.dataDir + "/db/state.db");
    if (!s.ok()) {
      std::cerr << "berth: cannot open the store: " << s.status().message() << "\n";
      return 1;
    }
    // Keep ~10,000 revisions of history (what lagging watchers and paginated lists need; the
    // watch cache keeps its own), compacting every minute in small batches, as upstream's
    // apiserver asks etcd to every five minutes.
    s.value()->startAutoCompaction(std::chrono::seconds(60), 10000);
    store = std::move(s.value());
  } else if (datastore == "memory") {
    store = std::make_unique<berth::store::MemoryStore>();
  } else {
    std::cerr << "berth: unknown --datastore " << datastore << " (sqlite, memory)\n";
    return 2;
  }
  berth::apiserver::ApiServer server(config, std::move(store));
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "berth: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth: API server listening on https://" << config.bindAddress << ":"
            << server.port() << "\n"
            << "berth: export KUBECONFIG=" << server.kubeconfigPath() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "berth: shutting down" << std::endl;
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Berth: a small Kubernetes-compatible container orchestrator"};
  app.require_subcommand(1);

  berth::apiserver::ApiServerConfig config;
  std::string datastore = "sqlite";
  auto* server = app.add_subcommand("server", "Run the control plane (API server and store)");
  server->add_option("--data-dir", config.dataDir, "State directory")->capture_default_str();
  server->add_option("--bind-address", config.bindAddress, "Address to listen on")
      ->capture_default_str();
  server->add_option("--secure-port", config.securePort, "HTTPS port (0 = any free port)")
      ->capture_default_str();
  server->add_option("--datastore", datastore, "sqlite (embedded, default) or memory")
      ->capture_default_str();
  server->add_option("--tls-san", config.tlsSans, "Extra SAN for the serving certificate");

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);
  if (*version) {
    std::cout << "berth v0.1.0 (Kubernetes API v1.32)\n";
    return 0;
  }
  if (*server) return runServer(config, datastore);
  return 0;
}
