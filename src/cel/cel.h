#pragma once
// A small CEL (Common Expression Language) implementation for Kubernetes admission
// matchConditions: compile() parses and type-checks an expression against declared variables
// (cel-go's messages: "undeclared reference to 'x'", "found no matching overload for ...",
// "undefined field 'x'"), evaluate() runs it with CEL's semantics: errors are values, `&&`/`||`
// are commutative (false && error == false, true || error == true), exists/all absorb errors the
// same way, and every step is charged against a cost budget so that no expression can run for
// long ("operation cancelled: actual cost limit exceeded").
//
// Supported: literals, lists, maps, selection, indexing, has(), in, == != < <= > >=,
// + - * / %, && || !, ?:, size(), startsWith/endsWith/contains/matches (RE2), exists, all,
// exists_one, map, filter, int(), uint(), double(), string(), bool(), dyn(), and the
// Kubernetes authorizer library (cel/authz.h).
//
// Thread-safety: a Program is immutable and may be evaluated from many threads at once.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "cel/ast.h"
#include "cel/authz.h"
#include "cel/parser.h"
#include "cel/value.h"

namespace berth::cel {

// A static type: a primitive, list, map, dyn, or an object with declared fields (as
// Kubernetes' AdmissionRequest, or a CRD schema's object). Lists and maps may know their element
// (map value) type; a map with a known value type has string keys, as the maps a CRD schema
// declares with additionalProperties.
struct Type {
  enum class K {
    kDyn,
    kNull,
    kBool,
    kInt,
    kUint,
    kDouble,
    kString,
    kBytes,
    kList,
    kMap,
    kObject,
    kOptional,
    kType,       // a type as a value: type(x), int, string, ...
    kTimestamp,  // google.protobuf.Timestamp
    kDuration,   // google.protobuf.Duration
    kOpaque      // a library type named by objectName (kubernetes.Quantity, net.IP, ...)
  };
  K k = K::kDyn;
  std::string objectName;                                     // kObject, kOpaque
  std::shared_ptr<const std::map<std::string, Type>> fields;  // kObject
  std::shared_ptr<const Type> elem;                           // kList, kMap, kOptional: null = dyn

  static Type of(K k) { return Type{k, "", nullptr, nullptr}; }
  static Type listOf(Type elem);
  static Type mapOf(Type value);  // map(string, value)
  static Type optionalOf(Type value);
  // The element type of a list, value type of a map; dyn when unknown.
  Type elemType() const { return elem ? *elem : of(K::kDyn); }
  std::string name() const;
};

struct Env {
  std::map<std::string, Type> variables;
  // Kubernetes' CEL extension libraries for stored expressions (CRD validation rules): the
  // strings (charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split, substring,
  // trim, join), lists (isSorted, sum, min, max, indexOf, lastIndexOf) and regex (find,
  // findAll) functions, optional types (optional.of/none/unwrap, hasValue, value, orValue, or,
  // optMap, optFlatMap, unwrapOpt, `[?a]`, `{?k: v}`), string format(), Kubernetes' format
  // library (cel/format_library.h) and named time zones in timestamp accessors (core/tzif.h).
  // Off for environments that do not declare them.
  bool extensionLibraries = false;
  // Declared names the server cannot evaluate, with the reason given at compile time.
  std::map<std::string, std::string> unsupported;
};

struct Program {
  std::string source;
  ExprPtr root;
  Type outputType;
};

std::variant<std::shared_ptr<const Program>, CompileError> compile(std::string_view source,
                                                                   const Env& env);

using Activation = std::map<std::string, Value, std::less<>>;

// The budget of one evaluation; matchConditions share it between all of a webhook's conditions
// (upstream's RuntimeCELCostBudgetMatchConditions plays that role, in cel-go's finer units).
// A unit is one node visited, one macro iteration, or 100 bytes of string or list work.
constexpr uint64_t kDefaultCostLimit = 1'000'000;

// The result, or an error value (Value::isError) with the reason. `costUsed`, when given, is
// set to what the evaluation spent (so callers can share one budget between expressions).
// `authz` answers the authorizer library's check() calls (null: they evaluate to errors).
Value evaluate(const Program& program, const Activation& activation,
               uint64_t costLimit = kDefaultCostLimit, uint64_t* costUsed = nullptr,
               const AuthzCallback* authz = nullptr);

}  // namespace berth::cel
