#pragma once
// Internal helpers of the Table printers: tolerant JSON field access, RFC 3339 timestamps and
// the small formatting rules upstream's printers share (labels.FormatLabels,
// metav1.FormatLabelSelector, container name/image lists). Not part of the component's API.
//
// Every accessor tolerates missing fields and wrong JSON types (stored objects are API input):
// it answers "absent" rather than throwing.
//
// Thread-safety: stateless free functions.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::apiserver::printers::internal {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Field access. A path walks nested objects: at(obj, {"spec", "template"}).
const boost::json::value* field(const boost::json::object& o, std::string_view key);
const boost::json::object* objectAt(const boost::json::object& o, std::string_view key);
const boost::json::object* objectAt(const boost::json::object& o,
                                    std::initializer_list<std::string_view> path);
const boost::json::array* arrayAt(const boost::json::object& o, std::string_view key);
// "" when absent or not a string.
std::string_view stringAt(const boost::json::object& o, std::string_view key);
std::string_view stringAt(const boost::json::object* o, std::string_view key);
// Integers (also whole doubles); nullopt when absent or not a number.
std::optional<std::int64_t> intAt(const boost::json::object& o, std::string_view key);
std::int64_t intOr(const boost::json::object* o, std::string_view key, std::int64_t fallback);
std::optional<bool> boolAt(const boost::json::object& o, std::string_view key);
// Element count of an object or array field; 0 when absent.
std::int64_t sizeAt(const boost::json::object& o, std::string_view key);
// metadata.<key> as a string.
std::string_view metaString(const boost::json::object& obj, std::string_view key);
// An int-or-string value as upstream's IntOrString.String() prints it; nullopt when absent.
std::optional<std::string> intOrString(const boost::json::object& o, std::string_view key);

// RFC 3339 with optional fraction and zone offset; nullopt for unparsable text. Go's zero time
// ("0001-01-01T00:00:00Z") parses to nullopt, since upstream treats it as unset.
std::optional<TimePoint> parseTime(std::string_view text);
// Time in UTC as RFC 3339 without a fraction, Go's time.RFC3339 format.
std::string formatTimeUtc(TimePoint t);
// translateTimestampSince: "<unknown>" for an unset time, else HumanDuration(now - t).
std::string since(std::optional<TimePoint> t, TimePoint now);
std::string sinceField(const boost::json::object* o, std::string_view key, TimePoint now);

// labels.FormatLabels: "a=1,b=2" sorted by key, "<none>" when empty.
std::string formatLabels(const boost::json::object* labels);
// The canonical string of a metav1.LabelSelector (LabelSelectorAsSelector(...).String()):
// "" for a nil or empty selector; nullopt when the selector is invalid.
std::optional<std::string> labelSelectorString(const boost::json::object* selector);
// metav1.FormatLabelSelector: "<none>" for empty, "<error>" for invalid.
std::string formatLabelSelector(const boost::json::object* selector);
// layoutContainerCells: comma-joined names and images of a containers array.
std::pair<std::string, std::string> containerCells(const boost::json::object* podSpec);

std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string toLower(std::string_view s);
std::string trimSpace(std::string_view s);

}  // namespace berth::apiserver::printers::internal
