#pragma once
// One pass over the objects an earlier Berth stored without Go's zero-valued fields
// (protobuf/zero_values.h): each is rewritten once with them, so every object in the store reads
// as upstream's would. A marker key records that the pass ran; later starts skip it. Like
// upstream's storage version migration, a rewritten object gets a new resourceVersion (watchers
// see MODIFIED).
//
// Thread-safety: run once at startup, before the server takes requests; concurrent writers are
// tolerated (a conflicting object is left for its writer, whose write fills it anyway).
#include "core/result.h"
#include "store/interface.h"

namespace berth::apiserver {

inline constexpr std::string_view kZeroValueMigrationKey = "/berth/migrations/go-zero-values";

// Returns how many objects were rewritten.
core::Result<int64_t> migrateGoZeroValues(store::Interface& store);

}  // namespace berth::apiserver
