// berth: one binary, subcommands per role. `berth server` runs the control plane with the
// embedded store.
#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "apiserver/api_server.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace {

// Every connection is a descriptor; the default soft limit (1024) would cap the server long
// before --max-connections. Raise it to the hard limit, as Go's runtime does for every program.
void raiseOpenFileLimit(size_t maxConnections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < maxConnections + 256) {
    std::cerr << "berth: warning: the open-file limit (" << limit.rlim_cur
              << ") is below --max-connections; new connections will back off when it is hit\n";
  }
}

int runServer(const berth::apiserver::ApiServerConfig& config, const std::string& datastore) {
  // Block the shutdown signals in every thread; this thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  raiseOpenFileLimit(config.maxConnections);

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
  server
      ->add_option("--max-connections", config.maxConnections,
                   "Open client connections at most; more wait in the accept backlog")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  server
      ->add_option("--tls-handshake-timeout", config.tlsHandshakeTimeoutSeconds,
                   "Seconds a new connection has to complete its TLS handshake")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  server
      ->add_option("--idle-connection-timeout", config.idleConnectionTimeoutSeconds,
                   "Seconds a keep-alive connection may wait between requests (0 = forever)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);
  if (*version) {
    std::cout << "berth v0.1.0 (Kubernetes API v1.32)\n";
    return 0;
  }
  if (*server) return runServer(config, datastore);
  return 0;
}
