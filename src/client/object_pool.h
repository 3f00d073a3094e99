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
// as long as some cache or handler holds it. Entries of gone objects are swept once the table
// has doubled since the last sweep (amortized O(1) per call).
//
// Thread-safety: every method is safe from any thread (one mutex; a lookup is a hash probe).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

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
  struct Entry {
    std::string resourceVersion;
    std::weak_ptr<const boost::json::value> object;
  };
  void sweepLocked();
  // scope + '\n' + namespace/name; empty when obj has no name or resourceVersion.
  static std::string keyOf(const std::string& scope, const boost::json::value& obj,
                           std::string_view* rv);

  mutable std::mutex mu_;
  // scope + '\n' + namespace/name → entry.
  std::unordered_map<std::string, Entry> entries_;
  size_t sweepAt_ = 4096;
  size_t shared_ = 0;
};

}  // namespace berth::client
