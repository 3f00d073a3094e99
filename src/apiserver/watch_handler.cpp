// Watch streaming: `?watch=true` answers 200 with a chunked stream of JSON lines
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, each flushed as written.
// Events come from the watch cache, already serialized: the line is assembled by concatenation,
// so an event is encoded once however many watchers receive it (Table watchers excepted).
// This file validates the request and writes the initial events; the live part (watch_stream.h)
// is then detached to the server's stream loop, so an idle watch holds no thread.
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <random>

#include "apiserver/api_handler.h"
#include "apiserver/negotiation.h"
#include "apiserver/partial_metadata.h"
#include "apiserver/replies.h"
#include "apiserver/watch_stream.h"
#include "core/kinds/strategy.h"
#include "core/labels.h"
#include "core/resource_behavior.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

// What a watch asks for in its query (upstream's ListOptions of a watch).
struct WatchQuery {
  Selectors selectors;
  std::string resourceVersion;  // as given; "" = unset
  int64_t fromRv = 0;
  // WatchList (sendInitialEvents): the state as ADDED events, then a BOOKMARK annotated
  // k8s.io/initial-events-end, then changes; sendInitialEvents=false starts without them.
  std::optional<bool> sendInitialEvents;
  std::chrono::seconds timeout{0};
};

std::chrono::seconds watchTimeout(const http::Request& req) {
  std::chrono::seconds timeout(0);
  if (req.hasQueryParam("timeoutSeconds")) {
    try {
      timeout = std::chrono::seconds(std::stoll(req.queryParam("timeoutSeconds")));
    } catch (...) {
    }
  }
  if (timeout.count() <= 0) {
    // Upstream spreads watch lifetimes over [minRequestTimeout, 2*minRequestTimeout] = 30–60 min.
    std::mt19937 gen{std::random_device{}()};
    timeout = std::chrono::seconds(1800 + gen() % 1800);
  }
  return timeout;
}

Result<WatchQuery> parseWatchQuery(const http::Request& req, const core::ResourceType& rt) {
  WatchQuery q;
  auto selectors =
      parseSelectors(rt, req.queryParam("labelSelector"), req.queryParam("fieldSelector"));
  if (!selectors.ok()) return selectors.status();
  q.selectors = std::move(*selectors);
  q.resourceVersion = req.queryParam("resourceVersion");
  if (!q.resourceVersion.empty()) {
    auto rv = parseResourceVersion(q.resourceVersion);
    if (!rv.ok()) return rv.status();
    q.fromRv = *rv;
  }
  if (req.hasQueryParam("sendInitialEvents"))
    q.sendInitialEvents = parseGoBool(req.queryParam("sendInitialEvents"));
  ListRequest opts;
  opts.resourceVersion = q.resourceVersion;
  opts.resourceVersionMatch = req.queryParam("resourceVersionMatch");
  opts.continueToken = req.queryParam("continue");
  if (auto st = validateListOptions(opts, true, q.sendInitialEvents); !st.ok()) return st;
  q.timeout = watchTimeout(req);
  return q;
}

// How this watch's events are written. The handler negotiated already (406 for nothing
// acceptable): JSON whenever acceptable.
Result<WatchFormat> watchFormatOf(const http::Request& req, const core::ResourceType& rt,
                                  const std::string& ns, Selectors selectors) {
  bool bookmarks = parseGoBool(req.queryParam("allowWatchBookmarks"));
  auto media = negotiateOutput(req.header("accept"), true);
  PartialMetadata partial = media.ok() ? media->partial : PartialMetadata::kNone;
  if (partial == PartialMetadata::kList) {
    // Upstream fails this transformation per event and ends the stream; a watch streams single
    // objects, which client-go's metadata client asks for as=PartialObjectMetadata.
    return Status::notAcceptable(
        "you requested PartialObjectMetadataList, but a watch "
        "streams single objects: ask for PartialObjectMetadata");
  }
  WatchFormat format;
  format.rt = &rt;
  format.selectors = std::move(selectors);
  format.prefix = rt.storagePrefix;
  if (rt.namespaced && !ns.empty()) format.prefix += ns + "/";
  format.table = media.ok() && media->table;
  format.includeObject = req.queryParam("includeObject");
  format.partial = partial;
  format.metaVersion = media.ok() ? media->metaVersion : "v1";
  format.protobuf = media.ok() && media->kind == MediaKind::kProtobuf;
  format.bookmarks = bookmarks;
  return format;
}

// The objects the watch starts with as ADDED events. Without sendInitialEvents, RV unset or "0"
// starts with the current state as synthetic ADDED events (legacy watch semantics); RV=N replays
// changes after N from the cache's history. Moves q.fromRv up to the revision the snapshot is at.
Result<std::vector<ObjectPtr>> initialState(CacheSet& caches, ResourceCache& cache,
                                            const std::string& prefix, WatchQuery& q) {
  bool initialEvents = q.sendInitialEvents ? *q.sendInitialEvents : q.fromRv == 0;
  std::vector<ObjectPtr> initial;
  if (!initialEvents && q.fromRv != 0) return initial;
  if (q.resourceVersion.empty()) {
    if (!caches.waitUntilFresh(std::chrono::seconds(5))) {
      return Status::timeout(
                 "Timeout: the watch cache did not catch up with the store in "
                 "time; retry the request")
          .withRetryAfter(1);
    }
  } else if (q.fromRv > 0 && !caches.waitForRevision(q.fromRv, std::chrono::seconds(3))) {
    return tooLargeResourceVersion(q.fromRv, caches.revision());
  }
  // The global revision is read first: every event up to it is already in the snapshot.
  int64_t global = caches.revision();
  auto snapshot = cache.list(prefix, &q.fromRv);
  q.fromRv = std::max(q.fromRv, global);
  if (initialEvents) initial = std::move(snapshot);
  return initial;
}

// The cache queues only what this watch can send (a kubelet's pod watch sees its node's pods).
Result<std::shared_ptr<CacheWatcher>> watchMatching(ResourceCache& cache, const WatchFormat& fmt,
                                                    int64_t fromRv) {
  return cache.watch(
      fromRv,
      [prefix = fmt.prefix, sel = fmt.selectors](const CachedObject& o) {
        return o.key.compare(0, prefix.size(), prefix) == 0 && sel.labels.matches(o.labels) &&
               o.matches(sel.fields);
      },
      &fmt.selectors.fields);
}

// A stream of one ERROR event: upstream answers a watch from a revision too old with 200 and an
// ERROR event carrying a 410 Expired Status.
void sendErrorEvent(http::ResponseWriter& w, const std::string& contentType,
                    const WatchEncoder& encoder, const Status& st) {
  if (!w.beginStream(200, contentType)) return;
  json::object ev{{"type", "ERROR"}, {"object", st.toJson()}};
  w.writeChunk(encoder.frames(json::serialize(ev) + "\n"));
  w.endStream();
}

// A stream of what was written before an object of the initial state could not be converted (a
// failing conversion webhook); it ends there, as upstream's watch does.
void sendTruncated(http::ResponseWriter& w, const std::string& contentType,
                   const WatchEncoder& encoder, std::string batch) {
  if (!w.beginStream(200, contentType)) return;
  if (!batch.empty()) w.writeChunk(encoder.frames(std::move(batch)));
  w.endStream();
}

}  // namespace

void ApiHandler::serveWatch(http::Request& req, http::ResponseWriter& w, const RequestTarget& t) {
  const core::ResourceType& rt = *t.rt;
  auto query = parseWatchQuery(req, rt);
  if (!query.ok()) {
    sendStatus(w, query.status());
    return;
  }
  auto* cache = cache_.forType(rt);
  if (!cache) {
    sendStatus(w, Status::notFound(rt.qualifiedResource(), ""));
    return;
  }
  auto format = watchFormatOf(req, rt, t.ns, std::move(query->selectors));
  if (!format.ok()) {
    sendStatus(w, format.status());
    return;
  }
  auto encoder = std::make_unique<WatchEncoder>(registry_, std::move(*format));
  const WatchFormat& fmt = encoder->format();
  auto initial = initialState(cache_, *cache, fmt.prefix, *query);
  if (!initial.ok()) {
    sendStatus(w, initial.status());
    return;
  }
  std::string contentType =
      fmt.protobuf ? "application/vnd.kubernetes.protobuf;stream=watch" : "application/json";
  auto watcher = watchMatching(*cache, fmt, query->fromRv);
  if (!watcher.ok()) {
    sendErrorEvent(w, contentType, *encoder, watcher.status());
    return;
  }
  std::string batch;
  for (const auto& o : *initial) {
    if (encoder->matches(o)) batch += encoder->line("ADDED", o);
  }
  if (encoder->failed()) {
    cache->unwatch(*watcher);
    sendTruncated(w, contentType, *encoder, std::move(batch));
    return;
  }
  if (query->sendInitialEvents && *query->sendInitialEvents && fmt.bookmarks)
    batch += encoder->bookmark(query->fromRv, true);
  std::string initialChunk = batch.empty() ? std::string() : encoder->frames(std::move(batch));
  auto cw = *watcher;
  auto source =
      std::make_shared<WatchSource>(std::move(encoder), cache_, *cache, cw, query->fromRv,
                                    std::chrono::steady_clock::now() + query->timeout, stopping_);
  if (!w.beginStream(200, contentType) || (!initialChunk.empty() && !w.writeChunk(initialChunk))) {
    source->closed();
    return;
  }
  // From here the server's stream loop writes the watch; the watcher wakes it on each event.
  // A kind whose conversion calls out (a CRD's conversion webhook) keeps this thread instead:
  // the loop's thread serves every other watch and must not wait on a webhook.
  bool remote = rt.behavior && rt.behavior->convertsRemotely();
  if (auto waker = remote ? nullptr : w.detachStream(source)) {
    cw->setListener([waker] { waker->wake(); });
    return;
  }
  source->serveBlocking(w);
}

}  // namespace berth::apiserver
