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

void ApiHandler::serveWatch(http::Request& req, http::ResponseWriter& w, const RequestTarget& t) {
  const core::ResourceType& rt = *t.rt;
  auto selectors =
      parseSelectors(rt, req.queryParam("labelSelector"), req.queryParam("fieldSelector"));
  if (!selectors.ok()) {
    sendStatus(w, selectors.status());
    return;
  }
  int64_t fromRv = 0;
  std::string rvParam = req.queryParam("resourceVersion");
  if (!rvParam.empty()) {
    auto rv = parseResourceVersion(rvParam);
    if (!rv.ok()) {
      sendStatus(w, rv.status());
      return;
    }
    fromRv = *rv;
  }
  // WatchList (sendInitialEvents): the state as ADDED events, then a BOOKMARK annotated
  // k8s.io/initial-events-end, then changes; sendInitialEvents=false starts without them.
  std::optional<bool> sendInitialEvents;
  if (req.hasQueryParam("sendInitialEvents"))
    sendInitialEvents = parseGoBool(req.queryParam("sendInitialEvents"));
  {
    ListRequest opts;
    opts.resourceVersion = rvParam;
    opts.resourceVersionMatch = req.queryParam("resourceVersionMatch");
    opts.continueToken = req.queryParam("continue");
    if (auto st = validateListOptions(opts, true, sendInitialEvents); !st.ok()) {
      sendStatus(w, st);
      return;
    }
  }
  auto* cache = cache_.forType(rt);
  if (!cache) {
    auto st = Status::notFound(rt.qualifiedResource(), "");
    sendStatus(w, st);
    return;
  }
  bool bookmarks = parseGoBool(req.queryParam("allowWatchBookmarks"));
  // The handler negotiated already (406 for nothing acceptable): JSON whenever acceptable.
  auto media = negotiateOutput(req.header("accept"), true);
  bool table = media.ok() && media->table;
  PartialMetadata partial = media.ok() ? media->partial : PartialMetadata::kNone;
  if (partial == PartialMetadata::kList) {
    // Upstream fails this transformation per event and ends the stream; a watch streams single
    // objects, which client-go's metadata client asks for as=PartialObjectMetadata.
    sendStatus(w, Status::notAcceptable("you requested PartialObjectMetadataList, but a watch "
                                        "streams single objects: ask for PartialObjectMetadata"));
    return;
  }
  std::string metaVersion = media.ok() ? media->metaVersion : "v1";
  bool pb = media.ok() && media->kind == MediaKind::kProtobuf;
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

  WatchFormat format;
  format.rt = &rt;
  format.selectors = std::move(*selectors);
  format.prefix = rt.storagePrefix;
  if (rt.namespaced && !t.ns.empty()) format.prefix += t.ns + "/";
  format.table = table;
  format.includeObject = req.queryParam("includeObject");
  format.partial = partial;
  format.metaVersion = metaVersion;
  format.protobuf = pb;
  format.bookmarks = bookmarks;
  auto encoder = std::make_unique<WatchEncoder>(registry_, std::move(format));

  // Without sendInitialEvents, RV unset or "0" starts with the current state as synthetic ADDED
  // events (legacy watch semantics); RV=N replays changes after N from the cache's history.
  bool initialEvents = sendInitialEvents ? *sendInitialEvents : fromRv == 0;
  std::vector<ObjectPtr> initial;
  if (initialEvents || fromRv == 0) {
    if (rvParam.empty()) {
      if (!cache_.waitUntilFresh(std::chrono::seconds(5))) {
        auto st = Status::timeout(
                      "Timeout: the watch cache did not catch up with the store in "
                      "time; retry the request")
                      .withRetryAfter(1);
        sendStatus(w, st);
        return;
      }
    } else if (fromRv > 0 && !cache_.waitForRevision(fromRv, std::chrono::seconds(3))) {
      auto st = tooLargeResourceVersion(fromRv, cache_.revision());
      sendStatus(w, st);
      return;
    }
    // The global revision is read first: every event up to it is already in the snapshot.
    int64_t global = cache_.revision();
    auto snapshot = cache->list(encoder->format().prefix, &fromRv);
    fromRv = std::max(fromRv, global);
    if (initialEvents) initial = std::move(snapshot);
  }
  std::string contentType =
      pb ? "application/vnd.kubernetes.protobuf;stream=watch" : "application/json";
  // The cache queues only what this watch can send (a kubelet's pod watch sees its node's pods).
  const WatchFormat& fmt = encoder->format();
  auto watcher = cache->watch(
      fromRv,
      [prefix = fmt.prefix, sel = fmt.selectors](const CachedObject& o) {
        return o.key.compare(0, prefix.size(), prefix) == 0 && sel.labels.matches(o.labels) &&
               o.matches(sel.fields);
      },
      &fmt.selectors.fields);
  if (!watcher.ok()) {
    // Too old: upstream answers 200 and an ERROR event carrying a 410 Expired Status.
    if (!w.beginStream(200, contentType)) return;
    json::object ev{{"type", "ERROR"}, {"object", watcher.status().toJson()}};
    w.writeChunk(encoder->frames(json::serialize(ev) + "\n"));
    w.endStream();
    return;
  }
  std::string batch;
  for (const auto& o : initial) {
    if (encoder->matches(o)) batch += encoder->line("ADDED", o);
  }
  if (encoder->failed()) {
    // An object of the initial state could not be converted (a failing conversion webhook): the
    // stream ends after what was written, as upstream's watch does.
    cache->unwatch(*watcher);
    if (w.beginStream(200, contentType)) {
      if (!batch.empty()) w.writeChunk(encoder->frames(std::move(batch)));
      w.endStream();
    }
    return;
  }
  if (sendInitialEvents && *sendInitialEvents && bookmarks)
    batch += encoder->bookmark(fromRv, true);
  std::string initialChunk = batch.empty() ? std::string() : encoder->frames(std::move(batch));
  auto cw = *watcher;
  auto source =
      std::make_shared<WatchSource>(std::move(encoder), cache_, *cache, cw, fromRv,
                                    std::chrono::steady_clock::now() + timeout, stopping_);
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
