#include "client/reflector.h"

#include <boost/json.hpp>

#include <random>

#include "client/compact_object.h"
#include "client/transform.h"

namespace berth::client {

namespace json = boost::json;
using core::Status;

Reflector::Reflector(RestClient& client, Resource resource, ReflectorOptions options,
                     ReflectorSink& sink)
    : client_(client),
      resource_(std::move(resource)),
      options_(std::move(options)),
      sink_(sink),
      trimPods_(options_.dropUnreadPodFields && resource_.group.empty() &&
                resource_.resource == "pods"),
      poolScope_(client.config().server + " " + resource_.group + "/" + resource_.version + "/" +
                 resource_.resource + (options_.stripManagedFields ? " -managedFields" : "") +
                 (trimPods_ ? " -unreadPodFields" : "")) {}

Reflector::~Reflector() { stop(); }

void Reflector::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void Reflector::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (current_) current_->stop();
    cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string Reflector::lastSyncResourceVersion() const {
  std::lock_guard lock(mu_);
  return lastRv_;
}

Reflector::Stats Reflector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Reflector::restartWatchFrom(const std::string& resourceVersion) {
  std::lock_guard lock(mu_);
  lastRv_ = resourceVersion;
  if (current_) current_->stop();
}

void Reflector::setResourceVersion(std::string_view rv) {
  if (rv.empty()) return;
  std::lock_guard lock(mu_);
  lastRv_ = std::string(rv);
}

bool Reflector::isInitialEventsEnd(const json::value& obj) {
  const auto* o = obj.if_object();
  if (!o || !o->contains("metadata") || !o->at("metadata").is_object()) return false;
  const auto& meta = o->at("metadata").get_object();
  auto a = meta.find("annotations");
  if (a == meta.end() || !a->value().is_object()) return false;
  auto end = a->value().get_object().find("k8s.io/initial-events-end");
  return end != a->value().get_object().end() && end->value() == "true";
}

ObjectPtr Reflector::admit(json::value&& obj) const {
  if (options_.stripManagedFields) stripManagedFields(obj);
  if (trimPods_) dropUnreadPodFields(obj);
  if (options_.pool) {
    if (auto pooled = options_.pool->find(poolScope_, obj)) return pooled;
  }
  // The cache keeps it for as long as it is current: in one block (compact_object.h).
  auto ptr = compactObject(obj);
  return options_.pool ? options_.pool->share(poolScope_, std::move(ptr)) : ptr;
}

void Reflector::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_; });
}

Status Reflector::listAll() {
  std::vector<ObjectPtr> objects;
  std::string listRv, token;
  for (;;) {
    ListOptions o;
    o.labelSelector = options_.labelSelector;
    o.fieldSelector = options_.fieldSelector;
    o.limit = options_.pageSize;
    o.continueToken = token;
    auto page = client_.list(resource_, options_.namespace_, o);
    if (!page.ok()) return page.status();
    auto* obj = page->if_object();
    if (!obj) return Status::internal("list answer is not an object");
    const json::object* meta =
        obj->contains("metadata") ? obj->at("metadata").if_object() : nullptr;
    if (meta && meta->contains("resourceVersion") && meta->at("resourceVersion").is_string() &&
        token.empty())
      listRv = std::string(meta->at("resourceVersion").get_string());
    // Items of a list carry no kind/apiVersion on the wire; handlers expect whole objects, as a
    // watch delivers them, so they are filled in from the list's own.
    std::string kind = obj->contains("kind") && obj->at("kind").is_string()
                           ? std::string(obj->at("kind").get_string())
                           : std::string();
    if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
    json::value apiVersion = obj->contains("apiVersion") ? obj->at("apiVersion") : json::value();
    if (auto it = obj->find("items"); it != obj->end() && it->value().is_array()) {
      for (auto& item : it->value().as_array()) {
        if (auto* io = item.if_object()) {
          if (!io->contains("kind") && !kind.empty()) (*io)["kind"] = kind;
          if (!io->contains("apiVersion") && apiVersion.is_string())
            (*io)["apiVersion"] = apiVersion;
        }
        objects.push_back(admit(std::move(item)));
      }
    }
    token.clear();
    if (meta && meta->contains("continue") && meta->at("continue").is_string())
      token = std::string(meta->at("continue").get_string());
    if (token.empty()) break;
  }
  if (listRv.empty()) return Status::internal("list answer has no metadata.resourceVersion");
  {
    // Counted before the sink sees it, so whoever observes the sync also sees the count.
    std::lock_guard lock(mu_);
    lastRv_ = listRv;
    ++stats_.lists;
  }
  sink_.onReplace(std::move(objects), listRv);
  return {};
}

namespace {

// A watch from `lastRv`, or with watchList a streaming list: the current state as ADDED events,
// closed by a bookmark annotated k8s.io/initial-events-end, then changes on the same stream.
ListOptions watchOptions(const ReflectorOptions& options, bool watchList, std::string lastRv) {
  ListOptions o;
  o.labelSelector = options.labelSelector;
  o.fieldSelector = options.fieldSelector;
  o.allowWatchBookmarks = true;
  if (watchList) {
    o.sendInitialEvents = true;
    o.resourceVersionMatch = "NotOlderThan";
  } else {
    o.resourceVersion = std::move(lastRv);
  }
  // A random 5-10 minute server timeout, as client-go uses, so many watchers do not all
  // reconnect at once.
  static thread_local std::mt19937 rng{std::random_device{}()};
  o.timeoutSeconds = 300 + static_cast<int>(rng() % 300);
  return o;
}

// A change after the initial state, handed to the sink (bookmarks only move the revision).
Status deliverChange(ReflectorSink& sink, const std::string& type, const ObjectPtr& obj) {
  if (type == "ADDED") {
    sink.onAdd(obj);
  } else if (type == "MODIFIED") {
    sink.onUpdate(obj);
  } else if (type == "DELETED") {
    sink.onDelete(obj);
  } else if (type != "BOOKMARK") {
    return Status::internal("unknown watch event type " + type);
  }
  return {};
}

}  // namespace

Status Reflector::watchOnce(bool watchList, bool* expired, bool* synced) {
  auto w = client_.watch(
      resource_, options_.namespace_,
      watchOptions(options_, watchList, watchList ? std::string() : lastSyncResourceVersion()));
  if (!w.ok()) {
    if (w.status().code() == 410) *expired = true;
    return w.status();
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return {};
    current_ = w->get();
    ++stats_.watches;
  }
  // While `initial`, ADDED events gather the state a streaming list sends first.
  bool initial = watchList;
  std::vector<ObjectPtr> initialObjects;
  Status eventError;
  Status st = (*w)->run([&](WatchEvent&& ev) {
    if (ev.type == "ERROR") {
      eventError = statusFromJson(ev.object, 500);
      if (eventError.code() == 410) *expired = true;
      return false;
    }
    // Bookmarks carry only a resourceVersion (and annotations): neither transformed nor pooled.
    auto obj = ev.type == "BOOKMARK" ? std::make_shared<const json::value>(std::move(ev.object))
                                     : admit(std::move(ev.object));
    std::string_view rv = objectResourceVersion(*obj);
    if (!initial) {
      eventError = deliverChange(sink_, ev.type, obj);
      if (!eventError.ok()) return false;
      setResourceVersion(rv);
      return true;
    }
    if (ev.type == "ADDED") {
      initialObjects.push_back(obj);
      return true;
    }
    if (ev.type == "BOOKMARK" && isInitialEventsEnd(*obj)) {
      {
        std::lock_guard lock(mu_);
        ++stats_.lists;
        lastRv_ = std::string(rv);
      }
      sink_.onReplace(std::move(initialObjects), std::string(rv));
      initial = false;
      *synced = true;
      return true;
    }
    if (ev.type == "BOOKMARK") return true;
    eventError = Status::internal("unexpected " + ev.type + " event before the initial state");
    return false;
  });
  {
    std::lock_guard lock(mu_);
    current_ = nullptr;
  }
  if (!eventError.ok()) return eventError;
  if (st.ok() && initial) return Status::unavailable("watch ended before the initial state");
  return st;
}

void Reflector::run() {
  bool needList = true;
  auto backoff = std::chrono::milliseconds(50);
  const auto maxBackoff = std::chrono::milliseconds(2000);
  auto fail = [&] {
    sleepFor(backoff);
    backoff = std::min(backoff * 2, maxBackoff);
  };
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    bool watchList = needList && options_.useWatchList && !watchListRefused_;
    if (needList && !watchList) {
      Status st = listAll();
      if (!st.ok()) {
        fail();
        continue;
      }
      needList = false;
    }
    bool expired = false, synced = false;
    Status st = watchOnce(watchList, &expired, &synced);
    if (synced) needList = false;
    if (watchList && !synced && (st.code() == 400 || st.code() == 422 || st.code() == 403)) {
      // The server does not serve streaming lists (an older API server): list from now on,
      // as client-go falls back.
      watchListRefused_ = true;
      continue;
    }
    if (expired) {
      std::lock_guard lock(mu_);
      ++stats_.expiredRelists;
      needList = true;
      continue;
    }
    if (st.ok()) {
      backoff = std::chrono::milliseconds(50);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.watchErrors;
    }
    // A transport failure (server restarting, connection reset) keeps the resourceVersion: the
    // next watch resumes from it. Any other error (a 5xx, a malformed stream) re-lists.
    if (st.code() != 503) needList = true;
    fail();
  }
}

}  // namespace berth::client
