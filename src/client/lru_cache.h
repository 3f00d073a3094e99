#pragma once
// LruCache: a string-keyed map that holds at most `capacity` entries and, when a new key would
// exceed that, evicts the least recently used one (a get or a put counts as a use), as
// groupcache's lru.Cache that client-go's EventCorrelator keeps its state in.
//
// Thread-safety: none; the owner serializes every call.
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace berth::client {

template <typename V>
class LruCache {
 public:
  explicit LruCache(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value of `key`, made the most recently used; nullptr when absent (never added, erased or
  // evicted). The pointer stays valid until that entry is erased or evicted.
  V* get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }

  // Sets `key` to `value` as the most recently used entry, evicting the least recently used one
  // when a new key would make more than capacity().
  V& put(const std::string& key, V value) {
    if (V* existing = get(key)) {
      *existing = std::move(value);
      return *existing;
    }
    if (entries_.size() >= capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
      ++evictions_;
    }
    entries_.emplace_front(key, std::move(value));
    index_.emplace(key, entries_.begin());
    return entries_.front().second;
  }

  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    entries_.erase(it->second);
    index_.erase(it);
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  long long evictions() const { return evictions_; }

 private:
  using Entries = std::list<std::pair<std::string, V>>;  // most recently used first
  const std::size_t capacity_;
  Entries entries_;
  std::unordered_map<std::string, typename Entries::iterator> index_;
  long long evictions_ = 0;
};

}  // namespace berth::client
