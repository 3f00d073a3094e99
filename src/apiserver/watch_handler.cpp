// Watch streaming: `?watch=true` answers 200 with a chunked stream of JSON lines
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, each flushed as written.
// Events come from the watch cache, already serialized: the line is assembled by concatenation,
// so an event is encoded once however many watchers receive it (Table watchers excepted).
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <random>

#include "apiserver/api_handler.h"
#include "apiserver/http/thread_memory.h"
#include "apiserver/replies.h"
#include "apiserver/negotiation.h"
#include "apiserver/partial_metadata.h"
#include "core/kinds/strategy.h"
#include "core/labels.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

// A copy of a cached object carrying another resourceVersion.
ObjectPtr withResourceVersion(const CachedObject& o, int64_t rv) {
  auto copy = std::make_shared<CachedObject>(o);
  copy->resourceVersion = rv;
  boost::system::error_code ec;
  auto v = json::parse(o.json, ec);
  if (!ec && v.is_object()) {
    auto& meta = v.as_object()["metadata"];
    if (meta.is_object()) meta.as_object()["resourceVersion"] = std::to_string(rv);
    copy->json = json::serialize(v);
  }
  return copy;
}

}  // namespace

void ApiHandler::serveWatch(http::Request& req, http::ResponseWriter& w, const RequestTarget& t) {
  const core::ResourceType& rt = *t.rt;
  auto selectors =
      parseSelectors(rt, req.queryParam("labelSelector"), req.queryParam("fieldSelector"));
  if (!selectors.ok()) {
    sendStatus(w, selectors.status());
    return;
  }
  const core::LabelSelector* labels = &selectors->labels;
  const core::FieldSelector* fields = &selectors->fields;
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
  auto frames = [pb](std::string lines) { return pb ? protobufWatchFrames(lines) : lines; };
  std::string include = req.queryParam("includeObject");
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

  std::string prefix = rt.storagePrefix;
  if (rt.namespaced && !t.ns.empty()) prefix += t.ns + "/";
  auto matches = [&](const ObjectPtr& o) {
    return o && o->key.compare(0, prefix.size(), prefix) == 0 && labels->matches(o->labels) &&
           o->matches(*fields);
  };

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
    auto snapshot = cache->list(prefix, &fromRv);
    fromRv = std::max(fromRv, global);
    if (initialEvents) initial = std::move(snapshot);
  }
  // The cache queues only what this watch can send (a kubelet's pod watch sees its node's pods).
  auto watcher = cache->watch(
      fromRv,
      [prefix, sel = *selectors](const CachedObject& o) {
        return o.key.compare(0, prefix.size(), prefix) == 0 && sel.labels.matches(o.labels) &&
               o.matches(sel.fields);
      },
      fields);
  if (!watcher.ok()) {
    // Too old: upstream answers 200 and an ERROR event carrying a 410 Expired Status.
    if (!w.beginStream(
            200, pb ? "application/vnd.kubernetes.protobuf;stream=watch" : "application/json"))
      return;
    json::object ev{{"type", "ERROR"}, {"object", watcher.status().toJson()}};
    w.writeChunk(frames(json::serialize(ev) + "\n"));
    w.endStream();
    return;
  }
  auto cw = *watcher;
  struct Unwatch {
    ResourceCache* c;
    std::shared_ptr<CacheWatcher> w;
    ~Unwatch() { c->unwatch(w); }
  } unwatch{cache, cw};

  std::string contentType =
      pb ? "application/vnd.kubernetes.protobuf;stream=watch" : "application/json";
  if (!w.beginStream(200, contentType)) return;
  bool firstTable = true;
  auto line = [&](const char* type, const ObjectPtr& o) -> std::string {
    if (table) {
      // Column definitions only in the first event; kubectl prints the header once.
      auto tbl = makeTable(rt, {registry_.toServed(rt, *o)}, std::to_string(o->resourceVersion),
                           include, firstTable);
      firstTable = false;
      return "{\"type\":\"" + std::string(type) + "\",\"object\":" + json::serialize(tbl) + "}\n";
    }
    if (partial != PartialMetadata::kNone) {
      std::string ev = "{\"type\":\"" + std::string(type) + "\",\"object\":";
      if (!appendPartialObjectMetadata(registry_.toServedJson(rt, *o), metaVersion, ev)) return "";
      return ev + "}\n";
    }
    return "{\"type\":\"" + std::string(type) + "\",\"object\":" + registry_.toServedJson(rt, *o) +
           "}\n";
  };
  // A bookmark's object is of the watched kind, or PartialObjectMetadata for a metadata watch
  // (whose client cannot decode the resource's own kind).
  const std::string bookmarkKind =
      partial != PartialMetadata::kNone ? "PartialObjectMetadata" : rt.kind;
  const std::string bookmarkVersion =
      partial != PartialMetadata::kNone ? "meta.k8s.io/" + metaVersion : rt.apiVersion();
  auto bookmark = [&](int64_t rev, bool initialEnd) {
    std::string bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"" + bookmarkKind +
                     "\",\"apiVersion\":\"" + bookmarkVersion +
                     "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(rev) + "\"";
    if (initialEnd) bm += ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}";
    return bm + "}}}\n";
  };
  std::string batch;
  for (const auto& o : initial) {
    if (matches(o)) batch += line("ADDED", o);
  }
  if (sendInitialEvents && *sendInitialEvents && bookmarks) batch += bookmark(fromRv, true);
  if (!batch.empty() && !w.writeChunk(frames(std::move(batch)))) return;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto lastBookmark = std::chrono::steady_clock::now();
  // This thread waits here for the watch's whole life: once it has had nothing to send for a
  // wait, the stack pages that serving the request touched go back (see thread_memory.h).
  bool written = true;
  // The newest revision this watcher is known to have sent everything up to: what a bookmark may
  // carry. Not the cache's current revision: an event at that revision may still sit in the
  // watcher's queue, and a client resuming from a bookmark past it would never see it.
  int64_t sentUpTo = fromRv;
  while (!stopping_.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (!w.clientConnected()) return;  // the client left (or the server is stopping)
    bool closed = false;
    // Every event up to the global revision read here is already in the queue `next` drains.
    int64_t appliedBefore = cache_.revision();
    auto events = cw->next(std::min(left, std::chrono::milliseconds(1000)), &closed);
    if (closed) break;
    batch.clear();
    for (const auto& e : events) {
      sentUpTo = std::max(sentUpTo, e.revision);
      bool now_ = matches(e.object);
      bool before = e.prev && matches(e.prev);
      if (e.type == CacheEvent::Type::kDeleted) {
        if (now_ || before) batch += line("DELETED", e.object);
      } else if (now_ && before) {
        batch += line("MODIFIED", e.object);
      } else if (now_) {
        batch += line("ADDED", e.object);
      } else if (before) {
        // No longer selected: to this watcher the object is gone, as it last matched (upstream
        // sends the previous state with the event's resourceVersion).
        batch += line("DELETED", withResourceVersion(*e.prev, e.revision));
      }
    }
    sentUpTo = std::max(sentUpTo, appliedBefore);
    if (!batch.empty()) {
      if (!w.writeChunk(frames(std::move(batch)))) return;
      written = true;
    } else if (!w.clientConnected()) {
      return;
    } else if (events.empty() && written) {
      written = false;
      http::releaseIdleThreadMemory();
    }
    if (bookmarks && std::chrono::steady_clock::now() - lastBookmark > std::chrono::seconds(30)) {
      lastBookmark = std::chrono::steady_clock::now();
      if (!w.writeChunk(frames(bookmark(sentUpTo, false))))
        return;
      written = true;
    }
  }
  w.endStream();
}

}  // namespace berth::apiserver
