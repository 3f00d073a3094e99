#include "store/memory/memory_store.h"

#include <algorithm>
#include <string>
#include <utility>

#include "store/memory/watch_hub.h"

namespace berth::store {
namespace {

Status closedStatus() { return Status::unavailable("store is closed"); }

Status tooLargeRevision(int64_t requested, int64_t current) {
  // Upstream's wording for a resourceVersion the storage has not reached yet (504 Timeout).
  return Status::timeout("Too large resource version: " + std::to_string(requested) +
                         ", current: " + std::to_string(current));
}

}  // namespace

MemoryStore::MemoryStore() : hub_(std::make_shared<WatchHub>(0)) { hub_->start(); }

MemoryStore::~MemoryStore() { close(); }

const MemoryStore::Version* MemoryStore::visibleAt(const History& history, int64_t revision) {
  auto it = std::upper_bound(history.begin(), history.end(), revision,
                             [](int64_t r, const Version& v) { return r < v.modRevision; });
  if (it == history.begin()) return nullptr;
  --it;
  return it->deleted ? nullptr : &*it;
}

const MemoryStore::Version* MemoryStore::latestLive(std::string_view key) const {
  auto it = keys_.find(key);
  if (it == keys_.end() || it->second.empty() || it->second.back().deleted) return nullptr;
  return &it->second.back();
}

void MemoryStore::commit(Event event) {
  auto& history = keys_[event.kv.key];
  Version v;
  v.modRevision = event.kv.modRevision;
  v.createRevision = event.kv.createRevision;
  v.deleted = event.type == Event::Type::kDelete;
  if (!v.deleted) v.value = event.kv.value;
  history.push_back(std::move(v));
  log_.push_back(event);
  // Published under mu_ so that events reach the hub in revision order; the hub only queues.
  std::vector<Event> batch;
  batch.push_back(std::move(event));
  hub_->publish(std::move(batch));
}

Result<KeyValue> MemoryStore::get(std::string_view key) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  const Version* v = latestLive(key);
  if (v == nullptr) return keyNotFound(key);
  return KeyValue{std::string(key), v->value, v->createRevision, v->modRevision};
}

Result<ListResult> MemoryStore::list(const ListOptions& options) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  if (options.revision < 0 || options.limit < 0) {
    return Status::badRequest("negative revision or limit");
  }
  int64_t revision = options.revision == 0 ? revision_ : options.revision;
  if (revision < compacted_) return revisionCompacted(revision, compacted_);
  if (revision > revision_) return tooLargeRevision(revision, revision_);
  ListResult result;
  result.revision = revision;
  auto it = (options.startAfter.empty() || options.startAfter < options.prefix)
                ? keys_.lower_bound(options.prefix)
                : keys_.upper_bound(options.startAfter);
  for (; it != keys_.end() && std::string_view(it->first).starts_with(options.prefix); ++it) {
    const Version* v = visibleAt(it->second, revision);
    if (v == nullptr) continue;
    if (options.limit > 0 && static_cast<int64_t>(result.items.size()) >= options.limit) {
      result.more = true;
      ++result.remaining;
      continue;
    }
    result.items.push_back(KeyValue{it->first, v->value, v->createRevision, v->modRevision});
  }
  return result;
}

Result<int64_t> MemoryStore::create(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  if (latestLive(key) != nullptr) return keyExists(key);
  int64_t rev = ++revision_;
  Event e;
  e.type = Event::Type::kPut;
  e.kv = KeyValue{std::string(key), std::string(value), rev, rev};
  commit(std::move(e));
  return rev;
}

Result<int64_t> MemoryStore::update(std::string_view key, std::string_view value,
                                    int64_t expectedModRevision) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  const Version* v = latestLive(key);
  if (v == nullptr) return keyNotFound(key);
  if (expectedModRevision != 0 && v->modRevision != expectedModRevision) {
    return revisionConflict(key);
  }
  int64_t rev = ++revision_;
  Event e;
  e.type = Event::Type::kPut;
  e.kv = KeyValue{std::string(key), std::string(value), v->createRevision, rev};
  e.prevKv = KeyValue{std::string(key), v->value, v->createRevision, v->modRevision};
  commit(std::move(e));
  return rev;
}

Result<KeyValue> MemoryStore::remove(std::string_view key, int64_t expectedModRevision) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  const Version* v = latestLive(key);
  if (v == nullptr) return keyNotFound(key);
  if (expectedModRevision != 0 && v->modRevision != expectedModRevision) {
    return revisionConflict(key);
  }
  int64_t rev = ++revision_;
  Event e;
  e.type = Event::Type::kDelete;
  e.kv = KeyValue{std::string(key), "", v->createRevision, rev};
  e.prevKv = KeyValue{std::string(key), v->value, v->createRevision, v->modRevision};
  KeyValue removed{std::string(key), v->value, v->createRevision, rev};
  commit(std::move(e));
  return removed;
}

Result<std::unique_ptr<Watch>> MemoryStore::watch(std::string_view prefix, int64_t afterRevision,
                                                  WatchCallback callback) {
  std::shared_ptr<WatchHub::Watcher> watcher;
  std::vector<Event> replay;
  {
    std::lock_guard lock(mu_);
    if (closed_) return closedStatus();
    if (afterRevision < 0) return Status::badRequest("negative watch revision");
    if (afterRevision != 0 && afterRevision < compacted_) {
      return revisionCompacted(afterRevision, compacted_);
    }
    // Registered under mu_: every event up to the floor is in log_ already, every later one is
    // published to the watcher after this point.
    watcher = hub_->add(prefix, afterRevision, std::move(callback));
    if (afterRevision != 0) {
      auto it = std::upper_bound(log_.begin(), log_.end(), afterRevision,
                                 [](int64_t r, const Event& e) { return r < e.kv.modRevision; });
      for (; it != log_.end() && it->kv.modRevision <= watcher->floor; ++it) {
        if (std::string_view(it->kv.key).starts_with(prefix)) replay.push_back(*it);
      }
    }
  }
  hub_->activate(watcher, std::move(replay));
  return hub_->handle(std::move(watcher));
}

int64_t MemoryStore::currentRevision() {
  std::lock_guard lock(mu_);
  return revision_;
}

int64_t MemoryStore::compactedRevision() {
  std::lock_guard lock(mu_);
  return compacted_;
}

Status MemoryStore::compact(int64_t revision) {
  std::lock_guard lock(mu_);
  if (closed_) return closedStatus();
  if (revision > revision_) {
    return Status::badRequest("compaction revision " + std::to_string(revision) +
                              " is in the future (current " + std::to_string(revision_) + ")");
  }
  if (revision <= compacted_) return Status();
  compacted_ = revision;
  while (!log_.empty() && log_.front().kv.modRevision <= revision) log_.pop_front();
  for (auto it = keys_.begin(); it != keys_.end();) {
    History& h = it->second;
    // Keep the newest version at or below `revision` (the state there) and everything newer;
    // a tombstone at or below it is not needed to read any retained state.
    auto keep = std::upper_bound(h.begin(), h.end(), revision,
                                 [](int64_t r, const Version& v) { return r < v.modRevision; });
    if (keep != h.begin()) {
      --keep;
      if (keep->deleted) ++keep;
      h.erase(h.begin(), keep);
    }
    it = h.empty() ? keys_.erase(it) : std::next(it);
  }
  return Status();
}

void MemoryStore::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  hub_->stop();
}

}  // namespace berth::store
