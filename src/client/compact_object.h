#pragma once
// compactObject: an immutable copy of a JSON value whose nodes sit in one exactly sized memory
// block instead of one malloc chunk each. Boost.JSON allocates every object table, key and long
// string separately; a parsed pod is ~170 allocations, and glibc's per-chunk overhead and
// rounding add ~30% to it. Informer caches hold every object of a resource for the process's
// lifetime, so they keep this form (reflector.cpp). Member names are not copied per object:
// they point into a process-wide, bounded arena of names (compact_object.cpp), ~40% less per
// cached pod.
//
// The value behaves as any other: reading is unchanged, and a copy made from it (copies take
// their source's memory resource in Boost.JSON) allocates from the ordinary heap, so copies may
// be made and modified on any thread. The block is freed with the last value or copy using it.
#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>

namespace berth::client {

std::shared_ptr<const boost::json::value> compactObject(const boost::json::value& v);

// Bytes of member names interned so far (shared by every compact object; never freed).
size_t internedNameBytes();

}  // namespace berth::client
