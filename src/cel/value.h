#pragma once
// CEL runtime values (a subset of cel-spec's types: null, bool, int, uint, double, string, bytes,
// list, map, plus error) for the admission matchConditions evaluator. Lists and maps either own
// their elements (built by literals and macros) or borrow a Boost.JSON array/object (the request
// and the objects under admission), so a large object is never copied to be inspected; the
// borrowed JSON must outlive every Value that refers to it.
//
// Thread-safety: immutable value type; copies share their elements.
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::cel {

// kOptional: cel-go's optional_type (optional.of(x) / optional.none()), for CRD rules with
// optionalOldSelf. kType: a type as a value (`type(x)`, `int`). kTimestamp / kDuration: CEL's
// google.protobuf.Timestamp and Duration. kOpaque: one of Kubernetes' library types
// (kubernetes.Quantity, kubernetes.URL, net.IP, net.CIDR), held as its canonical text and
// parsed by the library when used (cel/k8s_types.h).
enum class Kind {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kError,
  kOptional,
  kType,
  kTimestamp,
  kDuration,
  kOpaque
};

class Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<Value, Value>>;  // insertion order, keys unique

class Value {
 public:
  Value() = default;  // null
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value uinteger(uint64_t u);
  static Value dbl(double d);
  static Value string(std::string s);
  static Value bytes(std::string s);
  static Value list(ValueList items);
  static Value map(ValueMap entries);
  static Value error(std::string message);
  static Value optional(std::optional<Value> v);  // optional.of(v) or optional.none()
  static Value type(std::string name);            // a type value, by its CEL name
  // Seconds since the Unix epoch and nanoseconds (0..999999999) past them.
  static Value timestamp(int64_t seconds, int32_t nanos);
  static Value duration(int64_t nanos);
  // `typeName` must be a string literal (it is kept by pointer).
  static Value opaque(const char* typeName, std::string text);
  // Scalars are converted; arrays and objects are borrowed (see the file comment).
  static Value fromJson(const boost::json::value& v);
  static Value fromJsonObject(const boost::json::object& o);  // borrowed

  Kind kind() const { return kind_; }
  bool isError() const { return kind_ == Kind::kError; }
  bool asBool() const { return b_; }
  int64_t asInt() const { return i_; }
  uint64_t asUint() const { return u_; }
  double asDouble() const { return d_; }
  // string, bytes, error message, type name, opaque text
  const std::string& asString() const { return s_; }
  int64_t seconds() const { return i_; }                      // timestamp
  int32_t nanos() const { return static_cast<int32_t>(u_); }  // timestamp
  int64_t durationNanos() const { return i_; }                // duration

  // An optional's value (nullopt for optional.none()).
  std::optional<Value> optionalValue() const;

  // Lists and maps (owned or borrowed).
  size_t size() const;
  Value at(size_t i) const;                          // list element
  std::optional<Value> get(const Value& key) const;  // map lookup by CEL equality
  Value keyAt(size_t i) const;                       // map key in iteration order

  // CEL's name for the value's type ("int", "map", ...), for messages.
  std::string typeName() const;
  // A CEL literal-like rendering, for messages and tests.
  std::string debugString() const;

 private:
  Kind kind_ = Kind::kNull;
  bool b_ = false;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
  std::string s_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<const ValueMap> map_;
  const boost::json::array* jsonList_ = nullptr;
  const boost::json::object* jsonMap_ = nullptr;
  const char* opaque_ = nullptr;  // kOpaque's type name
};

std::string kindName(Kind k);
// Shortest round-tripping rendering of a double (Go's 'g' format: "1.5", "1e+20", "NaN").
std::string formatDouble(double d);
// `s` quoted as Go's strconv.Quote (and fmt's %q) quote it, as cel-go prints strings in
// string.format's lists and maps and in debug and unparsed forms: "\n", "\t", "\r" and the
// other C escapes, \xhh for other control bytes and bytes that are not UTF-8, \uhhhh/\Uhhhhhhhh
// for runes Go does not print (Unicode's spaces, format and private-use characters; unassigned
// code points are printed as they are).
std::string goQuote(std::string_view s);

// CEL equality with heterogeneous numeric comparison (1 == 1u == 1.0); values of different
// types are unequal, never an error. Neither side may be an error.
bool equals(const Value& a, const Value& b);
// Ordering for < <= > >=: -1, 0, 1; nullopt when the types have no ordering overload.
std::optional<int> compare(const Value& a, const Value& b);

}  // namespace berth::cel
