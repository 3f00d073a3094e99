#pragma once
// store::Interface: the versioned key-value contract the API server keeps objects in.
//
// The model is etcd v3's: one cluster-wide revision counter; every successful write (create,
// update, delete) takes the next revision, strictly increasing, and that revision becomes the
// written object's metadata.resourceVersion. Each key remembers the revision that created it and
// the one that last modified it. History is kept until compact(rev) drops what is older than rev;
// a watch or list at a revision below the compacted one fails with an Expired status (HTTP 410).
//
// Only the API server talks to a store. Values are opaque bytes (Berth stores JSON objects
// without metadata.resourceVersion; the reader fills it from modRevision).
//
// Thread-safety: every method may be called from any thread concurrently. Watch callbacks of one
// watch are called sequentially, in revision order, never concurrently with each other, and never
// while the store holds a lock the caller could need (a callback may call back into the store).
// An acknowledged write (a returned revision) is durable per the backend's promise: the SQLite
// backend has fsynced it; the memory backend keeps nothing across processes.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::store {

using core::Result;
using core::Status;

struct KeyValue {
  std::string key;
  std::string value;
  int64_t createRevision = 0;
  int64_t modRevision = 0;
  // Set by a value transformer (encryption at rest) when the value was read with a key that is
  // no longer the one new writes use: an update must rewrite it even when nothing else changed
  // (upstream's "stale" read, which is how key rotation by `kubectl replace` works).
  bool stale = false;
};

struct ListOptions {
  // Keys are compared bytewise; only keys with this prefix are returned, in key order.
  std::string prefix;
  // Return keys strictly greater than this one (pagination's continue point); empty = from start.
  std::string startAfter;
  // At most this many items; 0 = no limit.
  int64_t limit = 0;
  // Read the state as of this revision (0 = the current one). Fails Expired when compacted.
  int64_t revision = 0;
};

struct ListResult {
  std::vector<KeyValue> items;
  int64_t revision = 0;    // the revision the list reflects
  bool more = false;       // true when the limit cut the list short
  int64_t remaining = 0;   // how many more keys match after the last returned one (when more)
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For kPut: the new value. For kDelete: key, modRevision = the delete's revision, value empty.
  KeyValue kv;
  // The value before this event (for kPut of an existing key and for kDelete); empty key if none.
  KeyValue prevKv;
  bool isCreate() const { return type == Type::kPut && kv.createRevision == kv.modRevision; }
};

// Live watch; destroying it cancels the watch. After the destructor returns, the callback will not
// be called again.
class Watch {
 public:
  virtual ~Watch() = default;
};

using WatchCallback = std::function<void(const Event&)>;

class Interface {
 public:
  virtual ~Interface() = default;

  virtual Result<KeyValue> get(std::string_view key) = 0;
  virtual Result<ListResult> list(const ListOptions& options) = 0;

  // Fails AlreadyExists when the key exists. Returns the new revision.
  virtual Result<int64_t> create(std::string_view key, std::string_view value) = 0;
  // Replaces the value when the key's modRevision equals expectedModRevision (0 = any).
  // Fails NotFound when the key is missing, Conflict when the revision differs.
  // Returns the new revision.
  virtual Result<int64_t> update(std::string_view key, std::string_view value,
                                 int64_t expectedModRevision) = 0;
  // Deletes when the key's modRevision equals expectedModRevision (0 = any). Returns the deleted
  // key-value: `value` and `createRevision` as they were, `modRevision` = the delete's revision.
  virtual Result<KeyValue> remove(std::string_view key, int64_t expectedModRevision) = 0;

  // Calls `callback` for every event on keys with `prefix` whose revision is > afterRevision,
  // first replaying history, then live. afterRevision 0 means "from now". Fails Expired when
  // afterRevision < compactedRevision().
  virtual Result<std::unique_ptr<Watch>> watch(std::string_view prefix, int64_t afterRevision,
                                               WatchCallback callback) = 0;

  virtual int64_t currentRevision() = 0;
  virtual int64_t compactedRevision() = 0;
  // Drops history older than `revision` (the state at `revision` stays readable).
  virtual Status compact(int64_t revision) = 0;
  // Stops background work and flushes; further calls fail Unavailable.
  virtual void close() = 0;
};

// Error helpers so that every backend phrases store errors the same way. The API layer
// rewrites them with the resource name before a client sees them.
Status keyNotFound(std::string_view key);
Status keyExists(std::string_view key);
Status revisionConflict(std::string_view key);
Status revisionCompacted(int64_t requested, int64_t compacted);

}  // namespace berth::store
