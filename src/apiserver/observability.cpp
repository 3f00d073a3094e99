// Health and metrics endpoints of the API server (see observability.h).
#include "apiserver/observability.h"

#include <chrono>
#include <vector>

#include "core/resources.h"
#include "metrics/process.h"

namespace berth::apiserver {
namespace {

// How long informer-sync lets the watch cache take to reach the store's current revision.
constexpr auto kCacheSyncWait = std::chrono::seconds(1);

}  // namespace

Observability::Observability(store::Interface& store, CacheSet& cache) : requests_(registry_) {
  metrics::registerProcessMetrics(registry_);
  // Counted from the watch cache, which holds every stored object (upstream asks etcd for a
  // count per resource every minute; here it is exact at each scrape).
  registry_.computed(
      "apiserver_storage_objects",
      "[STABLE] Number of stored objects at the time of last check split by kind.",
      metrics::Type::kGauge, {"resource"}, [&cache] {
        std::vector<metrics::Sample> samples;
        for (const auto& rt : core::allResources()) {
          if (!rt.isStorageVersion() || rt.virtualResource) continue;
          if (ResourceCache* resources = cache.forType(rt)) {
            samples.push_back({{rt.qualifiedResource()}, static_cast<double>(resources->size())});
          }
        }
        return samples;
      });

  std::initializer_list<std::string_view> all = {"livez", "readyz", "healthz"};
  checks_.add(
      "ping", [] { return core::Status(); }, all);
  checks_.add(
      "etcd",
      [&store] {
        auto read = store.get("/registry/health");
        if (read.ok() || read.status().isNotFound()) return core::Status();
        return read.status();
      },
      all);
  checks_.add(
      "poststarthook/bootstrap-controller",
      [this] {
        return bootstrapped_.load()
                   ? core::Status()
                   : core::Status::unavailable("default namespaces and services not created yet");
      },
      all);
  checks_.add("informer-sync",
              [&cache] {
                return cache.waitUntilFresh(kCacheSyncWait)
                           ? core::Status()
                           : core::Status::unavailable("the watch cache is behind the store");
              },
              {"readyz"});
  checks_.add("shutdown",
              [this] {
                return shuttingDown_.load() ? core::Status::unavailable("process is shutting down")
                                            : core::Status();
              },
              {"readyz"});
}

void Observability::handle(http::Request& request, http::ResponseWriter& writer,
                           const http::Handler& next) {
  requests_.instrument(request, writer, [&](http::Request& r, http::ResponseWriter& w) {
    if (checks_.serve(r, w)) return;
    if (r.path == "/metrics") {
      serveMetrics(r, w);
      return;
    }
    next(r, w);
  });
}

void Observability::serveMetrics(const http::Request& request, http::ResponseWriter& writer) {
  // Upstream grants /metrics to system:monitoring, not to anonymous callers.
  core::Status refusal;
  if (request.user.anonymous()) {
    refusal = core::Status::unauthorized();
  } else if (request.method != "GET" && request.method != "HEAD") {
    refusal = core::Status::methodNotSupported(
        "the server does not allow this method on the requested resource");
  }
  if (!refusal.ok()) {
    writer.send(refusal.code(), "application/json", refusal.toJsonString());
    return;
  }
  std::string text = registry_.encode();
  for (const auto* extra : extra_) text += extra->encode();
  writer.send(200, metrics::kTextContentType, text);
}

}  // namespace berth::apiserver
