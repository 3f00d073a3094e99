#include "client/compact_object.h"

#include <sys/mman.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace berth::client {

namespace json = boost::json;

namespace {

// Member names shared by every compact object of the process. A pod has ~100 members whose
// names ("apiVersion", "lastTransitionTime", ...) Boost.JSON copies into every object (~1.1 KB
// of a cached pod, plus the padding they leave between 16-byte aligned tables); the set of
// names across a cluster's objects is small, so each is kept once here, for the process's
// lifetime, in one reserved mapping (pages are committed as they fill). Bounded: once full,
// objects with names not yet seen keep their own copies.
//
// Thread-safety: intern() takes a mutex; owns() reads only immutable fields.
class KeyArena {
 public:
  static KeyArena& process() {
    static KeyArena* arena = new KeyArena();  // never destroyed: cached objects may outlive main
    return *arena;
  }
  // The arena's copy of `key` (NUL-terminated), or null when the arena is full.
  const char* intern(std::string_view key) {
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(key); it != keys_.end()) return it->data();
    if (!base_ || keys_.size() >= kMaxKeys || used_ + key.size() + 1 > kBytes) return nullptr;
    char* at = base_ + used_;
    std::memcpy(at, key.data(), key.size());
    at[key.size()] = '\0';
    used_ += key.size() + 1;
    keys_.insert(std::string_view(at, key.size()));
    return at;
  }
  bool owns(const void* p) const {
    auto* c = static_cast<const char*>(p);
    return base_ && c >= base_ && c < base_ + kBytes;
  }
  size_t bytes() const {
    std::lock_guard lock(mu_);
    return used_;
  }

 private:
  static constexpr size_t kBytes = size_t{16} << 20;  // address space reserved, not memory
  static constexpr size_t kMaxKeys = 200000;

  KeyArena() {
    void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }

  char* base_ = nullptr;  // null: interning is off
  mutable std::mutex mu_;
  size_t used_ = 0;
  std::unordered_set<std::string_view> keys_;
};

// Boost.JSON 1.81 gives no way to construct a member whose name it does not own; after the copy
// the name pointer (key_value_pair's field after its value) is pointed at the interned copy.
// Each rewrite first checks that the field holds exactly key().data(), so a different layout
// is caught, not written over.
static_assert(sizeof(json::key_value_pair) == sizeof(json::value) + sizeof(char*) + 8);
const char** keySlot(json::key_value_pair& kv) {
  return reinterpret_cast<const char**>(reinterpret_cast<char*>(&kv) + sizeof(json::value));
}

// Every member of `v`, depth first, in member order.
template <class Value, class F>
void forEachMember(Value& v, const F& f) {
  if (auto* o = v.if_object()) {
    for (auto& kv : *o) {
      f(kv);
      forEachMember(kv.value(), f);
    }
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) forEachMember(e, f);
  }
}

// Where `used` bytes of a block end up for an allocation aligned to `align`. Boost.JSON asks
// for max_align_t (16) by default, but none of its tables holds anything aligned beyond 8:
// packing them at 8 saves the padding after every array and string table.
size_t alignUp(size_t used, size_t align) {
  align = std::min<size_t>(align, alignof(std::uint64_t));
  return (used + align - 1) & ~(align - 1);
}

// Where member names go while a tree is copied (Boost.JSON allocates them with alignment 1,
// and nothing else): a scratch area the names are replaced from afterwards. Sized exactly.
struct KeyScratch {
  std::vector<char> bytes;
  size_t used = 0;
  void* take(size_t n) {
    if (used + n > bytes.size()) {
      std::fputs("compactObject: member names outgrew their scratch\n", stderr);
      std::abort();  // sized from the same tree: cannot happen
    }
    used += n;
    return bytes.data() + used - n;
  }
};

// Bump allocation in one block; sealed after the copy that fills it. Before sealing it is used
// by one thread (the copy); after, only its immutable fields are read, so concurrent copies of
// the value (which allocate through it) are safe: they go to operator new.
class BlockResource final : public json::memory_resource {
 public:
  // `self` learns where the resource lives (make_shared_resource wraps it), to seal it.
  // With `keys`, member names go there until sealed (they are interned afterwards).
  BlockResource(char* block, size_t size, KeyScratch* keys, BlockResource** self)
      : block_(block), size_(size), keys_(keys) {
    *self = this;
  }
  ~BlockResource() override { ::operator delete(block_); }
  void seal() {
    sealed_ = true;
    keys_ = nullptr;
  }

 private:
  void* do_allocate(size_t n, size_t align) override {
    if (!sealed_ && n > 0) {
      if (keys_ && align == 1) return keys_->take(n);
      size_t at = alignUp(used_, align);
      if (at + n <= size_) {
        used_ = at + n;
        return block_ + at;
      }
    }
    return ::operator new(n, std::align_val_t(align));
  }
  void do_deallocate(void* p, size_t, size_t align) override {
    auto* c = static_cast<char*>(p);
    if (c >= block_ && c < block_ + size_) return;          // freed with the block
    if (align == 1 && KeyArena::process().owns(p)) return;  // an interned name
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  char* const block_;
  const size_t size_;
  KeyScratch* keys_;
  size_t used_ = 0;
  bool sealed_ = false;
};

// Measures what a copy needs: the same bump arithmetic over a scratch block reused by the
// thread, so the real block can be allocated at the exact size. Member names that will be
// interned (`keys`) are not counted.
class MeasuringResource final : public json::memory_resource {
 public:
  MeasuringResource(std::vector<std::max_align_t>& scratch, KeyScratch* keys)
      : scratch_(scratch), keys_(keys) {}
  size_t used() const { return used_; }
  bool overflowed() const { return overflowed_; }

 private:
  void* do_allocate(size_t n, size_t align) override {
    if (keys_ && align == 1) return keys_->take(n);
    size_t at = alignUp(used_, align);
    used_ = at + n;
    if (used_ <= scratch_.size() * sizeof(std::max_align_t))
      return reinterpret_cast<char*>(scratch_.data()) + at;
    overflowed_ = true;  // too big for the scratch: count it, allocate it for real
    return ::operator new(n, std::align_val_t(align));
  }
  void do_deallocate(void* p, size_t, size_t align) override {
    auto* c = reinterpret_cast<char*>(scratch_.data());
    size_t bytes = scratch_.size() * sizeof(std::max_align_t);
    if (static_cast<char*>(p) >= c && static_cast<char*>(p) < c + bytes) return;
    if (keys_ && align == 1) return;  // in the key scratch
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::vector<std::max_align_t>& scratch_;
  KeyScratch* keys_;
  size_t used_ = 0;
  bool overflowed_ = false;
};

// The interned copy of every member name of `v` in forEachMember order, and the bytes the copy
// will allocate for them; false when some name could not be interned (the arena is full).
bool internNames(const json::value& v, std::vector<const char*>& names, size_t& bytes) {
  names.clear();
  bytes = 0;
  bool all = true;
  KeyArena& arena = KeyArena::process();
  forEachMember(v, [&](const json::key_value_pair& kv) {
    if (!all) return;
    const char* interned = arena.intern(kv.key());
    if (!interned) all = false;
    names.push_back(interned);
    bytes += kv.key().size() + 1;
  });
  return all;
}

// Points every member name of `v` (a fresh copy whose names sit in the key scratch) at its
// interned copy.
void useInternedNames(json::value& v, const std::vector<const char*>& names) {
  size_t i = 0;
  forEachMember(v, [&](json::key_value_pair& kv) {
    const char** slot = keySlot(kv);
    if (*slot != kv.key().data() || i >= names.size()) {
      std::fputs("compactObject: unexpected Boost.JSON member layout\n", stderr);
      std::abort();
    }
    *slot = names[i++];
  });
}

}  // namespace

std::shared_ptr<const json::value> compactObject(const json::value& v) {
  thread_local std::vector<std::max_align_t> scratch(64 * 1024 / sizeof(std::max_align_t));
  thread_local KeyScratch keyScratch;
  thread_local std::vector<const char*> names;
  size_t keyBytes = 0;
  KeyScratch* keys = internNames(v, names, keyBytes) ? &keyScratch : nullptr;
  if (keys && keyScratch.bytes.size() < keyBytes) keyScratch.bytes.resize(keyBytes);
  size_t size = 0;
  bool overflowed = false;
  {
    keyScratch.used = 0;
    MeasuringResource measure(scratch, keys);
    { json::value probe(v, json::storage_ptr(&measure)); }
    size = measure.used();
    overflowed = measure.overflowed();
  }
  if (overflowed)  // grow the scratch for the next big object
    scratch.resize(size / sizeof(std::max_align_t) + 1);
  if (size == 0) return std::make_shared<const json::value>(v);  // scalars, empty containers
  auto* block = static_cast<char*>(::operator new(size));
  BlockResource* raw = nullptr;
  keyScratch.used = 0;
  auto resource = json::make_shared_resource<BlockResource>(block, size, keys, &raw);
  auto out = std::make_shared<json::value>(v, resource);
  if (keys) useInternedNames(*out, names);
  raw->seal();
  return out;
}

size_t internedNameBytes() { return KeyArena::process().bytes(); }

}  // namespace berth::client
