#include "client/compact_object.h"

#include <boost/json.hpp>

#include <cstddef>
#include <new>
#include <vector>

namespace berth::client {

namespace json = boost::json;

namespace {

// Bump allocation in one block; sealed after the copy that fills it. Before sealing it is used
// by one thread (the copy); after, only its immutable fields are read, so concurrent copies of
// the value (which allocate through it) are safe: they go to operator new.
class BlockResource final : public json::memory_resource {
 public:
  // `self` learns where the resource lives (make_shared_resource wraps it), to seal it.
  BlockResource(char* block, size_t size, BlockResource** self) : block_(block), size_(size) {
    *self = this;
  }
  ~BlockResource() override { ::operator delete(block_); }
  void seal() { sealed_ = true; }
  size_t used() const { return used_; }

 private:
  void* do_allocate(size_t n, size_t align) override {
    if (!sealed_ && n > 0) {
      size_t at = (used_ + align - 1) & ~(align - 1);
      if (at + n <= size_) {
        used_ = at + n;
        return block_ + at;
      }
    }
    return ::operator new(n, std::align_val_t(align));
  }
  void do_deallocate(void* p, size_t, size_t align) override {
    auto* c = static_cast<char*>(p);
    if (c >= block_ && c < block_ + size_) return;  // freed with the block
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  char* const block_;
  const size_t size_;
  size_t used_ = 0;
  bool sealed_ = false;
};

// Measures what a copy needs: the same bump arithmetic over a scratch block reused by the
// thread, so the real block can be allocated at the exact size.
class MeasuringResource final : public json::memory_resource {
 public:
  explicit MeasuringResource(std::vector<std::max_align_t>& scratch) : scratch_(scratch) {}
  size_t used() const { return used_; }
  bool overflowed() const { return overflowed_; }

 private:
  void* do_allocate(size_t n, size_t align) override {
    size_t at = (used_ + align - 1) & ~(align - 1);
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
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::vector<std::max_align_t>& scratch_;
  size_t used_ = 0;
  bool overflowed_ = false;
};

}  // namespace

std::shared_ptr<const json::value> compactObject(const json::value& v) {
  thread_local std::vector<std::max_align_t> scratch(64 * 1024 / sizeof(std::max_align_t));
  size_t size = 0;
  bool overflowed = false;
  {
    MeasuringResource measure(scratch);
    { json::value probe(v, json::storage_ptr(&measure)); }
    size = measure.used();
    overflowed = measure.overflowed();
  }
  if (overflowed)  // grow the scratch for the next big object
    scratch.resize(size / sizeof(std::max_align_t) + 1);
  if (size == 0) return std::make_shared<const json::value>(v);  // scalars, empty containers
  auto* block = static_cast<char*>(::operator new(size));
  BlockResource* raw = nullptr;
  auto resource = json::make_shared_resource<BlockResource>(block, size, &raw);
  auto out = std::make_shared<const json::value>(v, resource);
  raw->seal();
  return out;
}

}  // namespace berth::client
