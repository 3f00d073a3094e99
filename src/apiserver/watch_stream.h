#pragma once
// The live part of a watch, after its initial events: turns the CacheWatcher's events into the
// watch's wire lines (JSON, Table rows, PartialObjectMetadata, protobuf frames), with DELETED
// for objects that stop matching a selector, bookmarks carrying the revision sent up to, and
// the end at timeoutSeconds. It is an http::StreamSource: normally the server's stream loop
// drives it (no thread per watch); serveBlocking() drives it on the handler's own thread when
// the writer cannot detach (test fakes, HEAD).
//
// Thread-safety: produce()/wakeAt()/closed() one at a time (the loop's thread, or the handler's
// in serveBlocking); the CacheWatcher's listener wakes it from the cache's feed thread.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "apiserver/http/server.h"
#include "apiserver/negotiation.h"
#include "apiserver/partial_metadata.h"
#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

// How a watch's events are selected and written.
struct WatchFormat {
  const core::ResourceType* rt = nullptr;
  Selectors selectors;
  std::string prefix;  // storage key prefix (resource, namespace)
  bool table = false;
  std::string includeObject;  // for Table rows
  PartialMetadata partial = PartialMetadata::kNone;
  std::string metaVersion = "v1";
  bool protobuf = false;
  bool bookmarks = false;  // allowWatchBookmarks
};

// Encodes one watch's events. Keeps the state a stream needs: whether Table column definitions
// went out yet.
class WatchEncoder {
 public:
  WatchEncoder(const Registry& registry, WatchFormat format);
  bool matches(const ObjectPtr& o) const;
  // One event line ("" when the object cannot be written in the requested form).
  std::string line(const char* type, const ObjectPtr& o);
  std::string bookmark(int64_t revision, bool initialEventsEnd) const;
  // Lines as the wire wants them (protobuf frames, or the JSON lines themselves).
  std::string frames(std::string lines) const;
  // The lines `events` make for this watch (a selector watch sees an object that stops matching
  // as DELETED).
  void encode(const std::vector<CacheEvent>& events, std::string& out);
  const WatchFormat& format() const { return format_; }
  // An object could not be converted to the watched version: the stream is to end.
  bool failed() const { return failed_; }

 private:
  std::string fail(const core::Status& st);

  const Registry& registry_;
  const WatchFormat format_;
  bool firstTable_ = true;
  bool failed_ = false;
};

class WatchSource final : public http::StreamSource {
 public:
  WatchSource(std::unique_ptr<WatchEncoder> encoder, CacheSet& cacheSet, ResourceCache& cache,
              std::shared_ptr<CacheWatcher> watcher, int64_t sentUpTo, Clock::time_point deadline,
              const std::atomic<bool>& stopping);

  Next produce(std::string& out, Clock::time_point now) override;
  Clock::time_point wakeAt() const override;
  void closed() override;  // unregisters the watcher

  // Streams on the calling thread until the watch ends or the client goes; then closed().
  void serveBlocking(http::ResponseWriter& w);
  CacheWatcher& watcher() { return *watcher_; }

 private:
  static constexpr size_t kMaxEventsPerProduce = 256;

  std::unique_ptr<WatchEncoder> encoder_;
  CacheSet& cacheSet_;
  ResourceCache& cache_;
  std::shared_ptr<CacheWatcher> watcher_;
  // The newest revision this watcher is known to have sent everything up to: what a bookmark may
  // carry. Not the cache's current revision: an event at that revision may still sit in the
  // watcher's queue, and a client resuming from a bookmark past it would never see it.
  int64_t sentUpTo_;
  const Clock::time_point deadline_;
  Clock::time_point lastBookmark_;
  const std::atomic<bool>& stopping_;
  bool closed_ = false;
};

}  // namespace berth::apiserver
