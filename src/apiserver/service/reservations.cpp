#include "apiserver/service/reservations.h"

#include <boost/json.hpp>

#include <ctime>
#include <random>

#include "core/clock.h"

namespace berth::apiserver::service {
namespace json = boost::json;
namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

// Random tries before falling back to listing what is taken: with the pool less than half
// full, 32 misses in a row happen less than once in 4 billion allocations.
constexpr int kRandomTries = 32;

int64_t createdAtOf(std::string_view value) {
  boost::system::error_code ec;
  json::value v = json::parse(value, ec);
  const auto* meta = !ec && v.is_object() ? v.as_object().if_contains("metadata") : nullptr;
  const auto* ts = meta && meta->is_object() ? meta->as_object().if_contains("creationTimestamp")
                                             : nullptr;
  if (ts == nullptr || !ts->is_string()) return 0;
  std::tm tm{};
  if (strptime(std::string(ts->as_string()).c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr)
    return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::optional<Owner> ownerOf(std::string_view value) {
  boost::system::error_code ec;
  json::value v = json::parse(value, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* spec = v.as_object().if_contains("spec");
  const auto* ref =
      spec && spec->is_object() ? spec->as_object().if_contains("parentRef") : nullptr;
  if (ref == nullptr || !ref->is_object()) return std::nullopt;
  Owner o;
  const auto& r = ref->as_object();
  if (const auto* ns = r.if_contains("namespace"); ns && ns->is_string())
    o.namespace_ = std::string(ns->as_string());
  if (const auto* n = r.if_contains("name"); n && n->is_string())
    o.name = std::string(n->as_string());
  const auto* meta = v.as_object().if_contains("metadata");
  const auto* refs =
      meta && meta->is_object() ? meta->as_object().if_contains("ownerReferences") : nullptr;
  if (refs && refs->is_array() && !refs->as_array().empty() && refs->as_array()[0].is_object()) {
    const auto* uid = refs->as_array()[0].as_object().if_contains("uid");
    if (uid && uid->is_string()) o.uid = std::string(uid->as_string());
  }
  return o;
}

ReservationPool::ReservationPool(store::Interface& store, Spec spec)
    : store_(store), spec_(std::move(spec)) {}

std::string ReservationPool::valueFor(uint64_t item, const Owner& owner) const {
  // The shape of upstream's IPAddress: metadata.name is the item, spec.parentRef the Service.
  json::object obj{{"apiVersion", spec_.apiVersion},
                   {"kind", spec_.kind},
                   {"metadata", json::object{{"name", spec_.format(item)},
                                             {"creationTimestamp", core::nowRfc3339()},
                                             {"ownerReferences",
                                              json::array{json::object{{"apiVersion", "v1"},
                                                                       {"kind", "Service"},
                                                                       {"name", owner.name},
                                                                       {"uid", owner.uid}}}}}},
                   {"spec", json::object{{"parentRef", json::object{{"group", ""},
                                                                    {"resource", "services"},
                                                                    {"namespace", owner.namespace_},
                                                                    {"name", owner.name}}}}}};
  return json::serialize(obj);
}

Status ReservationPool::reserve(uint64_t item, const Owner& owner) {
  std::string key = keyOf(item);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto created = store_.create(key, valueFor(item, owner));
    if (created.ok()) return {};
    if (!created.status().isAlreadyExists()) return created.status();
    auto kv = store_.get(key);
    if (!kv.ok()) {
      if (kv.status().isNotFound()) continue;  // released meanwhile: try again
      return kv.status();
    }
    if (ownerOf(kv->value) == owner) return {};
    return Status::alreadyExists(spec_.kind, spec_.format(item));
  }
  return Status::alreadyExists(spec_.kind, spec_.format(item));
}

Result<bool> ReservationPool::isFree(uint64_t item, const Owner& owner) {
  auto kv = store_.get(keyOf(item));
  if (!kv.ok()) {
    if (kv.status().isNotFound()) return true;
    return kv.status();
  }
  return ownerOf(kv->value) == owner;
}

Result<uint64_t> ReservationPool::pickFree(const Owner* reserveFor) {
  auto tryItem = [&](uint64_t item) -> Result<bool> {
    if (reserveFor == nullptr) {  // dry run: free means no key at all
      auto kv = store_.get(keyOf(item));
      if (kv.ok()) return false;
      if (kv.status().isNotFound()) return true;
      return kv.status();
    }
    Status st = reserve(item, *reserveFor);
    if (st.ok()) return true;
    if (st.isAlreadyExists()) return false;
    return st;
  };
  uint64_t lo = spec_.preferFrom > spec_.first && spec_.preferFrom <= spec_.last ? spec_.preferFrom
                                                                                 : spec_.first;
  for (uint64_t from : {lo, spec_.first}) {
    std::uniform_int_distribution<uint64_t> d(from, spec_.last);
    for (int i = 0; i < kRandomTries; ++i) {
      uint64_t item = d(rng());
      auto got = tryItem(item);
      if (!got.ok()) return got.status();
      if (*got) return item;
    }
  }
  // Nearly full: walk the free items from a random start.
  auto taken = list();
  if (!taken.ok()) return taken.status();
  uint64_t size = spec_.last - spec_.first + 1;
  uint64_t start = std::uniform_int_distribution<uint64_t>(0, size - 1)(rng());
  for (uint64_t i = 0; i < size; ++i) {
    uint64_t item = spec_.first + (start + i) % size;
    if (taken->count(item)) continue;
    auto got = tryItem(item);
    if (!got.ok()) return got.status();
    if (*got) return item;
  }
  return Status::internal("range is full");
}

Result<uint64_t> ReservationPool::reserveAny(const Owner& owner) { return pickFree(&owner); }

Result<uint64_t> ReservationPool::peekAny() { return pickFree(nullptr); }

Status ReservationPool::release(uint64_t item, const Owner& owner) {
  std::string key = keyOf(item);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto kv = store_.get(key);
    if (!kv.ok()) return kv.status().isNotFound() ? Status() : kv.status();
    if (ownerOf(kv->value) != owner) return {};
    auto gone = store_.remove(key, kv->modRevision);
    if (gone.ok() || gone.status().isNotFound()) return {};
    if (!gone.status().isConflict()) return gone.status();
  }
  return Status::conflict(spec_.kind, spec_.format(item), "reservation kept changing");
}

Status ReservationPool::forget(uint64_t item, int64_t modRevision) {
  auto gone = store_.remove(keyOf(item), modRevision);
  // Conflict: re-reserved since it was listed, so no longer the leak it was.
  return gone.ok() || gone.status().isNotFound() || gone.status().isConflict() ? Status()
                                                                              : gone.status();
}

Result<std::map<uint64_t, ReservationPool::Held>> ReservationPool::list() {
  store::ListOptions opts;
  opts.prefix = spec_.keyPrefix;
  auto listed = store_.list(opts);
  if (!listed.ok()) return listed.status();
  std::map<uint64_t, Held> out;
  for (const auto& kv : listed->items) {
    auto owner = ownerOf(kv.value);
    if (!owner) continue;
    std::string_view suffix = std::string_view(kv.key).substr(spec_.keyPrefix.size());
    if (auto item = spec_.parse(suffix))
      out.emplace(*item, Held{std::move(*owner), kv.modRevision, createdAtOf(kv.value)});
  }
  return out;
}

}  // namespace berth::apiserver::service
