#pragma once
// CRD validation rules (x-kubernetes-validations), as apiextensions-apiserver's
// pkg/apiserver/schema/cel: each rule is a CEL expression compiled against the type of the schema
// node that declares it (`self`, and `oldSelf` for transition rules) and evaluated at every value
// of that node: once per list element, once per map value. Schema types map to CEL types as
// upstream's SchemaDeclType: integer → int, number → double, string → string, boolean → bool,
// object with properties → object with those fields (names escaped: "foo-bar" → foo__dash__bar,
// "namespace" → __namespace__; unknown fields of x-kubernetes-preserve-unknown-fields objects are
// not exposed), additionalProperties → map(string, T), items → list(T),
// x-kubernetes-int-or-string → dyn; resource roots expose apiVersion, kind and
// metadata.name/generateName, strings of format date-time/date → timestamp, duration →
// duration, byte → bytes. Rules under allOf/anyOf/oneOf/not are refused with the CRD, as
// upstream's structural schema check does for CRDs.
//
// Transition rules (those naming oldSelf) run only on update and only where an old value
// correlates: object properties and map values by key, list-type=map items by their keys.
// With optionalOldSelf, oldSelf is optional_type(T) (optional.none() on create) and the rule
// runs on create too. Failures of other rules on values that did not change are ratcheted into
// warnings (upstream's CRDValidationRatcheting, on by default since 1.30).
//
// Thread-safety: a RuleValidator is immutable and may be used from many threads.
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/crd/schema.h"
#include "cel/cel.h"

namespace berth::apiserver::crd {

class RuleValidator;

// Compiles every rule of the schema tree. Problems are field errors under `path`
// ("spec.versions[0].schema.openAPIV3Schema") with upstream's messages ("compilation failed:
// ERROR: <input>:1:6: undefined field 'foo'"), and rules whose estimated cost is over upstream's
// limits (crd/rule_cost.h: "...rule: Forbidden: estimated rule cost exceeds budget by factor of
// 2.5x (...)"). Null when the schema declares no rules or some do not compile; cost errors alone
// still give a validator, so that stored CRDs keep their rules.
std::shared_ptr<const RuleValidator> compileRules(std::shared_ptr<const Schema> root,
                                                  const std::string& path, FieldErrors& errs);

// Evaluates the rules against a custom object (`old`: the stored object on update). Failures
// are field errors: "spec: Invalid value: \"object\": <message>" (reason FieldValueInvalid, or
// the rule's reason), at the node's path or the rule's fieldPath; "<nil>" at the root.
// Failures on values that did not change are ratcheted: they go to `warnings` (when given) as
// "<field>: <message>" instead of failing the write.
FieldErrors validateRules(const RuleValidator& validator, const boost::json::value& obj,
                          const boost::json::value* old,
                          std::vector<std::string>* warnings = nullptr);

// Upstream's structural rule for rules: none under allOf/anyOf/oneOf/not of `raw` (the schema
// node at `path`), at any depth ("<path>.allOf[0].x-kubernetes-validations: Forbidden: must be
// empty to be structural"). Called by compileSchema for every node.
void forbidNestedRules(const boost::json::object& raw, const std::string& path, FieldErrors& errs);
void forbidNestedRulesAt(const boost::json::object& raw, const std::string& path, int depth,
                         FieldErrors& errs);

// The CEL type of a schema node, or nullopt when the node is not exposed to CEL.
std::optional<cel::Type> celTypeOf(const Schema& s, bool resourceRoot);
// The CEL value of `v` under schema `s` (numbers per the schema's type, object fields by their
// escaped names). Borrows nothing: the result owns its elements.
cel::Value celValueOf(const Schema& s, const boost::json::value& v, bool resourceRoot);
// upstream's Escape: a property name as a CEL identifier, or nullopt when it has none.
std::optional<std::string> escapeCelName(std::string_view name);

}  // namespace berth::apiserver::crd
