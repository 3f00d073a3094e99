#pragma once
// The structural schema of a CustomResourceDefinition version (spec.versions[].schema.
// openAPIV3Schema) compiled once, and the three things the API server does with it to a custom
// object, as upstream's apiextensions-apiserver does: validation (kube-openapi's validator, with
// its messages converted to field errors the way apiextensions' kubeOpenAPIResultToFieldErrors
// does: "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type
// integer: \"string\""), defaulting (`default`, applied where a field is absent, or null and not
// nullable) and pruning (fields the schema does not specify are dropped, unless
// x-kubernetes-preserve-unknown-fields; apiVersion, kind and metadata survive at the root and in
// x-kubernetes-embedded-resource objects).
//
// Supported keywords: type, properties, required, items, additionalProperties (bool or schema),
// enum, minimum/maximum (+exclusive), minLength/maxLength, minItems/maxItems,
// minProperties/maxProperties, pattern (RE2, Go's regexp syntax, matched in linear time),
// nullable, default, format/description (kept for OpenAPI), x-kubernetes-preserve-unknown-fields,
// x-kubernetes-int-or-string, x-kubernetes-embedded-resource. allOf/anyOf/oneOf/not are accepted
// in the CRD and published but not enforced.
//
// Thread-safety: a compiled Schema is immutable; all functions are reentrant.
#include <boost/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace re2 {
class RE2;
}

namespace berth::apiserver::crd {

using FieldErrors = std::vector<core::StatusCause>;

// One x-kubernetes-validations entry, as written in the CRD (compiled by crd/rules.h).
struct ValidationRule {
  std::string rule, message, messageExpression, reason, fieldPath;
  bool hasReason = false;
  std::optional<bool> optionalOldSelf;
};

struct Schema {
  std::string type;  // object|array|string|integer|number|boolean or "" (int-or-string/preserve)
  std::map<std::string, Schema, std::less<>> properties;
  std::vector<std::string> required;
  std::shared_ptr<const Schema> items;
  std::shared_ptr<const Schema> additionalProperties;  // schema for map values
  bool additionalPropertiesAllowed = true;             // false only for additionalProperties: false
  std::vector<boost::json::value> enumValues;
  std::optional<double> minimum, maximum;
  bool exclusiveMinimum = false, exclusiveMaximum = false;
  std::optional<int64_t> minLength, maxLength, minItems, maxItems, minProperties, maxProperties;
  std::string pattern;
  std::shared_ptr<const re2::RE2> patternRe;
  std::string format;  // as written; CEL rules see date-time/date/duration/byte strings typed
  std::optional<boost::json::value> defaultValue;
  bool nullable = false;
  bool preserveUnknownFields = false;
  bool intOrString = false;
  bool embeddedResource = false;
  std::string listType;                  // x-kubernetes-list-type: atomic|set|map or ""
  std::vector<std::string> listMapKeys;  // x-kubernetes-list-map-keys
  std::vector<ValidationRule> rules;     // x-kubernetes-validations
};

// Compiles `raw` (an openAPIV3Schema) and checks it is structural; errors carry field paths
// under `path` ("spec.versions[0].schema.openAPIV3Schema"). On errors the result is nullptr.
std::shared_ptr<const Schema> compileSchema(const boost::json::object& raw, const std::string& path,
                                            FieldErrors& errs);

// Validates a whole custom object (root schema). Empty = valid.
FieldErrors validateObject(const Schema& root, const boost::json::value& obj);
// Validates `value` against `schema`, reporting under `path` ("" at the root).
void validateValue(const Schema& schema, const boost::json::value& value, const std::string& path,
                   FieldErrors& errs);

// Fills defaults in place (idempotent).
void applyDefaults(const Schema& root, boost::json::value& obj);
// Drops fields the schema does not specify (root: keeps apiVersion, kind, metadata).
void prune(const Schema& root, boost::json::value& obj);
// The paths ("spec.foo", "spec.items[0].bar") prune would drop, in document order.
std::vector<std::string> unknownFields(const Schema& root, const boost::json::value& obj);

}  // namespace berth::apiserver::crd
