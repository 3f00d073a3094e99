#pragma once
// The schema's type references resolved once per process: for every field of every message in
// the table, the MessageSchema it names and which special JSON form it has. Saves the codec a
// name lookup per nested message on the hot path. Internal to src/apiserver/protobuf.
//
// Thread-safety: built on first use (thread-safe static init), immutable afterwards.
#include "apiserver/protobuf/schema.h"

namespace berth::apiserver::protobuf::internal {

enum class Special {
  kNone,
  kTime,
  kMicroTime,
  kDuration,
  kQuantity,
  kIntOrString,
  kRawExtension,  // and FieldsV1: {1 raw} holding JSON
};

struct ResolvedType {
  const MessageSchema* message = nullptr;  // for message and map<string, message> fields
  Special special = Special::kNone;
};

// `owner` must be an entry of allMessages() and `field` one of its fields.
const ResolvedType& resolveField(const MessageSchema& owner, const FieldSchema& field);

Special specialOf(std::string_view messageName);

}  // namespace berth::apiserver::protobuf::internal
