// The live part of a watch (see watch_stream.h).
#include "apiserver/watch_stream.h"

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

#include "apiserver/api_handler.h"
#include "apiserver/http/thread_memory.h"

namespace berth::apiserver {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kBookmarkInterval = std::chrono::seconds(30);

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

// ---- WatchEncoder ----

WatchEncoder::WatchEncoder(const Registry& registry, WatchFormat format)
    : registry_(registry), format_(std::move(format)) {}

bool WatchEncoder::matches(const ObjectPtr& o) const {
  const std::string& prefix = format_.prefix;
  return o && o->key.compare(0, prefix.size(), prefix) == 0 &&
         format_.selectors.labels.matches(o->labels) && o->matches(format_.selectors.fields);
}

std::string WatchEncoder::line(const char* type, const ObjectPtr& o) {
  const core::ResourceType& rt = *format_.rt;
  if (failed_) return "";
  if (format_.table) {
    auto served = registry_.served(rt, *o);
    if (!served.ok()) return fail(served.status());
    // Column definitions only in the first event; kubectl prints the header once.
    auto tbl = makeTable(rt, {std::move(*served)}, std::to_string(o->resourceVersion),
                         format_.includeObject, firstTable_);
    firstTable_ = false;
    return "{\"type\":\"" + std::string(type) + "\",\"object\":" + json::serialize(tbl) + "}\n";
  }
  auto served = registry_.servedJson(rt, *o);
  if (!served.ok()) return fail(served.status());
  if (format_.partial != PartialMetadata::kNone) {
    std::string ev = "{\"type\":\"" + std::string(type) + "\",\"object\":";
    if (!appendPartialObjectMetadata(*served, format_.metaVersion, ev)) return "";
    return ev + "}\n";
  }
  return "{\"type\":\"" + std::string(type) + "\",\"object\":" + *served + "}\n";
}

std::string WatchEncoder::fail(const core::Status& st) {
  // Upstream's watch handler stops at an object it cannot encode (a conversion webhook that
  // fails): the stream ends, the client lists again and gets the error.
  std::cerr << "berth: watch of " << format_.rt->qualifiedResource() << " ended: " << st.message()
            << "\n";
  failed_ = true;
  return "";
}

std::string WatchEncoder::bookmark(int64_t revision, bool initialEventsEnd) const {
  // A bookmark's object is of the watched kind, or PartialObjectMetadata for a metadata watch
  // (whose client cannot decode the resource's own kind).
  bool partial = format_.partial != PartialMetadata::kNone;
  std::string bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"" +
                   (partial ? std::string("PartialObjectMetadata") : format_.rt->kind) +
                   "\",\"apiVersion\":\"" +
                   (partial ? "meta.k8s.io/" + format_.metaVersion : format_.rt->apiVersion()) +
                   "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(revision) + "\"";
  if (initialEventsEnd) bm += ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}";
  return bm + "}}}\n";
}

std::string WatchEncoder::frames(std::string lines) const {
  return format_.protobuf ? protobufWatchFrames(lines) : lines;
}

void WatchEncoder::encode(const std::vector<CacheEvent>& events, std::string& out) {
  for (const auto& e : events) {
    bool now = matches(e.object);
    bool before = e.prev && matches(e.prev);
    if (e.type == CacheEvent::Type::kDeleted) {
      if (now || before) out += line("DELETED", e.object);
    } else if (now && before) {
      out += line("MODIFIED", e.object);
    } else if (now) {
      out += line("ADDED", e.object);
    } else if (before) {
      // No longer selected: to this watcher the object is gone, as it last matched (upstream
      // sends the previous state with the event's resourceVersion).
      out += line("DELETED", withResourceVersion(*e.prev, e.revision));
    }
  }
}

// ---- WatchSource ----

WatchSource::WatchSource(std::unique_ptr<WatchEncoder> encoder, CacheSet& cacheSet,
                         ResourceCache& cache, std::shared_ptr<CacheWatcher> watcher,
                         int64_t sentUpTo, Clock::time_point deadline,
                         const std::atomic<bool>& stopping)
    : encoder_(std::move(encoder)),
      cacheSet_(cacheSet),
      cache_(cache),
      watcher_(std::move(watcher)),
      sentUpTo_(sentUpTo),
      deadline_(deadline),
      lastBookmark_(Clock::now()),
      stopping_(stopping) {}

http::StreamSource::Next WatchSource::produce(std::string& out, Clock::time_point now) {
  if (stopping_.load() || now >= deadline_) return Next::kEnd;
  // Every event up to the global revision read here is already in the queue take() drains.
  int64_t appliedBefore = cacheSet_.revision();
  bool closed = false, more = false;
  auto events = watcher_->take(kMaxEventsPerProduce, &closed, &more);
  std::string batch;
  for (const auto& e : events) sentUpTo_ = std::max(sentUpTo_, e.revision);
  encoder_->encode(events, batch);
  if (encoder_->failed()) {
    if (!batch.empty()) out += encoder_->frames(std::move(batch));  // what converted goes out
    return Next::kEnd;
  }
  // A closed watcher may have dropped events (overflow): no bookmark may claim them sent.
  if (!more && !closed) sentUpTo_ = std::max(sentUpTo_, appliedBefore);
  if (!closed && encoder_->format().bookmarks && now - lastBookmark_ >= kBookmarkInterval) {
    lastBookmark_ = now;
    batch += encoder_->bookmark(sentUpTo_, false);
  }
  if (!batch.empty()) out += encoder_->frames(std::move(batch));
  // Closed: overflowed (too slow a reader) or the cache stopped; what was queued went out first.
  if (closed) return Next::kEnd;
  return more ? Next::kMore : Next::kIdle;
}

Clock::time_point WatchSource::wakeAt() const {
  if (!encoder_->format().bookmarks) return deadline_;
  return std::min(deadline_, lastBookmark_ + kBookmarkInterval);
}

void WatchSource::closed() {
  if (closed_) return;
  closed_ = true;
  watcher_->setListener(nullptr);
  cache_.unwatch(watcher_);
}

void WatchSource::serveBlocking(http::ResponseWriter& w) {
  // This thread waits here for the watch's whole life: once it has had nothing to send for a
  // wait, the stack pages that serving the request touched go back (see thread_memory.h).
  bool written = true;
  for (;;) {
    if (!w.clientConnected()) break;  // the client left (or the server is stopping)
    std::string out;
    Next next = produce(out, Clock::now());
    if (!out.empty()) {
      if (!w.writeChunk(out)) break;
      written = true;
    }
    if (next == Next::kEnd) {
      w.endStream();
      break;
    }
    if (next == Next::kMore) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wakeAt() - Clock::now());
    if (left.count() > 0 && !watcher_->wait(std::min(left, std::chrono::milliseconds(1000))) &&
        written) {
      written = false;
      http::releaseIdleThreadMemory();
    }
  }
  closed();
}

}  // namespace berth::apiserver
