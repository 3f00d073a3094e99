#pragma once
// SharedObjectPool: lets every informer of a process hold one copy of an object that several of
// them cache. `berth server` runs the controller-manager and the scheduler in-process, each an
// API client with its own identity, factory and watches (DESIGN.md: running in one process
// changes nothing about that); without the pool each keeps its own parsed copy of every pod,
// ~10 KB apiece at 150,000 pods. The pool changes no request or event: each informer still
// lists and watches as before; only when an arriving object is the same object (same server,
// resource, transform, namespace/name and resourceVersion) as one another informer holds is
// that pointer kept instead of the new parse. A resourceVersion is one write's revision, so the
// same key at the same resourceVersion from the same server is the same content.
//
// Objects are immutable and shared (indexer.h), so handing one informer's object to another is
// as safe as handing it to two handlers. The pool holds weak references only: an object lives
// as long as some cache or handler holds it. Entries of gone objects are swept once a table
// has doubled since the last sweep (amortized O(1) per call).
//
// An entry is only a hash of the object's namespace/name and a weak pointer (48 bytes of heap,
// down from ~200 with the key and resourceVersion copied): a hit is verified against the
// pooled object's own namespace, name and resourceVersion, so two names with the same hash only
// lose sharing (the later replaces the earlier's entry), never get each other's object.
//
// Thread-safety: every method is safe from any thread (one mutex; a lookup is a hash probe).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/indexer.h"

namespace berth::client {

class SharedObjectPool {
 public:
  // The process's pool, used by SharedInformerFactory's informers.
  static SharedObjectPool& process();

  // `scope` names where objects come from (server, resource, transform): objects of different
  // scopes are never shared. Returns the pooled object with obj's key and resourceVersion when
  // one is alive, else pools `obj` and returns it. Objects without a name or resourceVersion
  // (bookmarks) are returned as they are.
  ObjectPtr share(const std::string& scope, ObjectPtr obj);
  // The pooled object with obj's key and resourceVersion, or null: lets a caller skip building
  // its own copy of an object that is already pooled.
  ObjectPtr find(const std::string& scope, const boost::json::value& obj);

  size_t size() const;    // entries, live or not yet swept
  size_t shared() const;  // calls answered with an already pooled object

 private:
  // One scope's entries: hash of namespace/name → the pooled object.
  struct Table {
    std::unordered_map<uint64_t, std::weak_ptr<const boost::json::value>> entries;
    size_t sweepAt = 4096;
  };
  Table& tableLocked(const std::string& scope);
  static void sweepLocked(Table& t);
  // The pooled object of the entry when it is alive and is obj's version of obj's object.
  static ObjectPtr matchLocked(const Table& t, uint64_t hash, const boost::json::value& obj);

  mutable std::mutex mu_;
  // A process has a few dozen scopes (resources); looked up by a short linear scan.
  std::vector<std::pair<std::string, std::unique_ptr<Table>>> tables_;
  size_t shared_ = 0;
};

}  // namespace berth::client
