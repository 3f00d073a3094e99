#pragma once
// Objects as Go's encoding/json writes them: upstream decodes every request into its Go types
// and serializes those, so a field without `omitempty` appears with its zero value
// (`numberReady: 0`, `reportingComponent: ""`) and a non-pointer struct appears even when empty
// (`status: {}`, `resources: {}`, `loadBalancer: {}`), with a zero metav1.Time as null
// (`creationTimestamp: null` in templates, `lastProbeTime: null`). Generated clients (the
// Python client's models) reject objects that lack such required fields.
//
// The schema (schema.h, FieldSchema::emitZero, read from the Go types by
// scripts/gen_proto_schema.py) says which fields these are. Berth adds them once, when an
// object is stored, so every read path serves them without further work.
//
// Deliberate difference: Go writes a nil slice, map or []byte without omitempty as null; Berth
// leaves such a field out (clients read a missing and a null list alike, and an in-tree reader
// of `"rules": null` would have to special-case it).
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <string_view>

namespace berth::apiserver::protobuf {

struct MessageSchema;

// Adds the zero-valued fields Go would write to `obj`, a top-level object whose apiVersion and
// kind name a kind in the schema; returns false (and leaves `obj` alone) for unknown kinds.
bool addGoZeroValues(boost::json::object& obj);
// The same for an object of a given message type (nested objects included).
void addGoZeroValues(const MessageSchema& schema, boost::json::object& obj);

}  // namespace berth::apiserver::protobuf
