#pragma once
// A write's object encoded once. The registry serializes an object for the store; the watch
// cache used to parse those bytes back, extract labels and selectable fields and serialize them
// again with metadata.resourceVersion set (about a fifth of a pod create's CPU), and the reply
// serialized the object a third time. Upstream's cacher likewise keeps one encoding per event
// instead of one per reader.
//
// A PreparedWrite carries the stored bytes, where metadata closes in them, and what the cache
// extracts (namespace, name, labels, fields). The cached JSON and the reply are then the stored
// bytes with `"resourceVersion":"N"` spliced in at the end of metadata: byte for byte what
// decodeStoredObject makes of the same bytes (prepared_write_test checks it), because stored
// objects never carry resourceVersion (the registry strips it) and Boost.JSON's serialization
// of a parsed document reproduces the document.
//
// Thread-safety: a PreparedWrite is built by one writer, then only read (its `object` is moved
// out once, under ResourceCache's lock, by the event that stores it).
#include <boost/json/object.hpp>

#include <memory>
#include <string>

#include "apiserver/watch_cache.h"
#include "core/resources.h"

namespace berth::apiserver {

struct PreparedWrite {
  std::string value;       // the bytes the store gets: json::serialize(obj)
  size_t metadataEnd = 0;  // offset of the '}' that closes metadata in `value`
  bool metadataEmpty = false;
  CachedObject object;   // key, namespace, name, labels, fields; no json, no resourceVersion
  int64_t revision = 0;  // written at (ResourceCache::settleWrite; guarded by its lock)
};

// The write of `obj` (storage version) under `key`. Null when its metadata is not an object or
// still carries a resourceVersion: the cache then decodes the stored bytes as for any event.
std::shared_ptr<PreparedWrite> prepareWrite(const core::ResourceType& storageType,
                                            const std::string& key, const boost::json::object& obj);

// The stored bytes as served at `rv`: decodeStoredObject(value, rv)'s JSON.
std::string storedJsonAt(const PreparedWrite& w, int64_t rv);

// Fills the fields of `out` the cache derives from an object's content (namespace, name,
// labels, selectable fields); decodeStoredObject and prepareWrite share it.
void indexCachedObject(const core::ResourceType& storageType, const boost::json::object& obj,
                       CachedObject& out);

}  // namespace berth::apiserver
