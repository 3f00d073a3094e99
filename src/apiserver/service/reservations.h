#pragma once
// ReservationPool: a numbered range of items (Service ClusterIPs, NodePorts) reserved one store
// key per item, as upstream's IPAddress objects reserve ClusterIPs (networking.k8s.io/v1, stored
// under /registry/ipaddresses/<ip>). Reserving is the store's atomic create, so two API servers
// sharing a store cannot hand out one item twice; each key names its holder (the parentRef of an
// IPAddress), so a release only frees what its owner holds and repair can find leaks.
//
// Thread-safety: stateless apart from the store; every method may be called concurrently.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/interface.h"

namespace berth::apiserver::service {

using core::Result;
using core::Status;

// The Service holding a reservation. The uid tells a Service from a later one of the same name
// (and a failed create of a twin from the Service that exists).
struct Owner {
  std::string namespace_;
  std::string name;
  std::string uid;
  bool operator==(const Owner&) const = default;
};

class ReservationPool {
 public:
  struct Spec {
    std::string keyPrefix;   // "/registry/ipaddresses/"
    std::string apiVersion;  // written into each reservation object
    std::string kind;
    uint64_t first = 0;  // items first..last (inclusive) may be handed out
    uint64_t last = 0;
    // Dynamic allocation prefers items >= preferFrom, so clients asking for a specific low item
    // (kube-dns at .10) rarely collide with a random one (upstream's static subrange).
    uint64_t preferFrom = 0;
    std::function<std::string(uint64_t)> format;  // item → key suffix and object name
    std::function<std::optional<uint64_t>(std::string_view)> parse;  // its inverse
  };

  ReservationPool(store::Interface& store, Spec spec);

  bool inRange(uint64_t item) const { return item >= spec_.first && item <= spec_.last; }
  // Reserves `item` for `owner`. Succeeds when the owner already holds it; AlreadyExists when
  // someone else does; store errors pass through.
  Status reserve(uint64_t item, const Owner& owner);
  // Reserves a free item chosen at random. Internal error "range is full" when none is left.
  Result<uint64_t> reserveAny(const Owner& owner);
  // A free item (or whether `item` is free) without reserving: for dry-run writes.
  Result<uint64_t> peekAny();
  Result<bool> isFree(uint64_t item, const Owner& owner);
  // Frees `item` if `owner` holds it; a missing key or another holder is not an error.
  Status release(uint64_t item, const Owner& owner);
  // A stored reservation: its holder, the revision it was written at (for a compare-and-delete)
  // and when (metadata.creationTimestamp, seconds since the epoch; 0 when unreadable).
  struct Held {
    Owner owner;
    int64_t modRevision = 0;
    int64_t createdAt = 0;
  };
  // Every reservation, item → holder.
  Result<std::map<uint64_t, Held>> list();
  // Removes a reservation whoever holds it (repair of leaks), only if it is still the one
  // written at `modRevision` (0: whatever is there).
  Status forget(uint64_t item, int64_t modRevision = 0);

 private:
  std::string keyOf(uint64_t item) const { return spec_.keyPrefix + spec_.format(item); }
  std::string valueFor(uint64_t item, const Owner& owner) const;
  Result<uint64_t> pickFree(const Owner* reserveFor);

  store::Interface& store_;
  Spec spec_;
};

// Holder named in a stored reservation object; nullopt when the value is not one.
std::optional<Owner> ownerOf(std::string_view value);

}  // namespace berth::apiserver::service
