#pragma once
// Indexer: the informer's local cache, as client-go's `tools/cache` ThreadSafeStore + Indexer.
// Objects are keyed "namespace/name" (just "name" when cluster-scoped) and kept as immutable
// shared JSON values: readers get the very object the informer stored, never a copy, so they
// must not modify it (copy before mutating, as upstream's "objects from a lister are read-only").
//
// Indexes map an index value to the keys of the objects an IndexFunc returns it for; the
// "namespace" index is always present. Index functions must be pure functions of the object.
//
// Thread-safety: every method is safe from any thread (one shared_mutex; readers in parallel).
// A list reflects one moment of the store; objects in it may be replaced right after.
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace berth::client {

using ObjectPtr = std::shared_ptr<const boost::json::value>;
using IndexFunc = std::function<std::vector<std::string>(const boost::json::value&)>;

inline constexpr std::string_view kNamespaceIndex = "namespace";

// "namespace/name" or "name"; empty when the object has no metadata.name.
std::string metaNamespaceKey(const boost::json::value& obj);
// Small accessors of metadata fields ("" when absent).
std::string_view objectNamespace(const boost::json::value& obj);
std::string_view objectName(const boost::json::value& obj);
std::string_view objectResourceVersion(const boost::json::value& obj);

class Indexer {
 public:
  Indexer();

  // Adds index functions; fails with a Conflict if a name is taken. Existing objects are indexed.
  core::Status addIndexers(const std::map<std::string, IndexFunc>& indexers);

  // Inserts or replaces by key; returns the previous object (null when new).
  ObjectPtr upsert(const std::string& key, ObjectPtr obj);
  // Removes by key; returns the removed object (null when absent).
  ObjectPtr remove(const std::string& key);
  // Swaps the whole content for `objects` (keyed by metaNamespaceKey); returns the old content.
  std::unordered_map<std::string, ObjectPtr> replace(std::vector<ObjectPtr> objects);

  ObjectPtr get(const std::string& key) const;
  ObjectPtr get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> listKeys() const;
  size_t size() const;
  // Objects whose index `indexName` holds `value`; NotFound-free: an unknown value gives {}.
  core::Result<std::vector<ObjectPtr>> byIndex(std::string_view indexName,
                                               std::string_view value) const;
  core::Result<std::vector<std::string>> indexKeys(std::string_view indexName,
                                                   std::string_view value) const;
  // Objects in one namespace (all when ns is empty), through the namespace index.
  std::vector<ObjectPtr> listNamespace(std::string_view ns) const;

 private:
  // `key` must be the items_ node's own key (the indexes keep views of it).
  void indexLocked(const std::string& key, const ObjectPtr& obj);
  void unindexLocked(const std::string& key, const ObjectPtr& obj);

  // Heterogeneous lookup: an index's string_view keys find their item without a copy.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr, KeyHash, std::equal_to<>> items_;
  std::map<std::string, IndexFunc, std::less<>> indexers_;
  // index name -> index value -> keys. The keys view the items_ keys (nodes of an
  // unordered_map do not move), so an entry costs no copy of the key: an object is unindexed
  // before its item is erased, and replace() rebuilds every index over the new items.
  std::map<std::string, std::map<std::string, std::set<std::string_view>, std::less<>>,
           std::less<>>
      indices_;
};

}  // namespace berth::client
