#include "store/interface.h"

#include <string>

namespace berth::store {

Status keyNotFound(std::string_view key) { return Status::notFound("key", key); }
Status keyExists(std::string_view key) { return Status::alreadyExists("key", key); }
Status revisionConflict(std::string_view key) { return Status::staleResourceVersion("key", key); }
Status revisionCompacted(int64_t requested, int64_t compacted) {
  return Status::expired("too old resource version: " + std::to_string(requested) + " (" +
                         std::to_string(compacted) + ")");
}

}  // namespace berth::store
