#include "apiserver/wire_limits.h"

#include <charconv>

namespace berth::apiserver {

using core::Status;

Status invalidOptions(std::string_view optionsKind, core::StatusCause cause) {
  // NewInvalid names the kind qualified by its group: "CreateOptions.meta.k8s.io".
  std::string message = std::string(optionsKind) + ".meta.k8s.io \"\" is invalid: " + cause.field +
                        ": " + cause.message;
  return Status::generic(422, "Invalid", std::move(message))
      .withCauses({std::move(cause)})
      .withDetails("", "meta.k8s.io", optionsKind);
}

Status checkStoredSize(std::string_view key, std::string_view value) {
  if (key.size() + value.size() <= kMaxStoredObjectBytes) return {};
  return Status::requestEntityTooLarge("etcdserver: request is too large");
}

core::Result<std::optional<int64_t>> int64QueryParam(const http::Request& req,
                                                     std::string_view name) {
  if (!req.hasQueryParam(name)) return std::optional<int64_t>();
  std::string v = req.queryParam(name);
  // strconv.ParseInt(v, 10, 64): an optional sign, then decimal digits only.
  std::string_view digits = v;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  bool syntax = digits.empty() || end != digits.data() + digits.size() ||
                (ec != std::errc() && ec != std::errc::result_out_of_range);
  auto fail = [&](std::string_view why) {
    return Status::badRequest("strconv.ParseInt: parsing \"" + v + "\": " + std::string(why));
  };
  if (syntax) return fail("invalid syntax");
  constexpr uint64_t kMaxMagnitude = uint64_t(INT64_MAX);
  if (ec == std::errc::result_out_of_range || magnitude > kMaxMagnitude + (negative ? 1 : 0))
    return fail("value out of range");
  int64_t out = negative ? int64_t(0 - magnitude) : int64_t(magnitude);
  return std::optional<int64_t>(out);
}

Status checkDryRun(const http::Request& req, std::string_view optionsKind) {
  std::vector<std::string> values;
  auto [b, e] = req.query.equal_range("dryRun");
  for (auto it = b; it != e; ++it) values.push_back(it->second);
  bool ok = true;
  for (const auto& v : values) ok = ok && v == "All";
  if (ok) return {};
  // field.NotSupported prints the value with Go's %#v: []string{"bogus"}.
  std::string shown = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) shown += ", ";
    shown += "\"" + values[i] + "\"";
  }
  shown += "}";
  return invalidOptions(optionsKind,
                        {"FieldValueNotSupported",
                         "Unsupported value: " + shown + ": supported values: \"All\"", "dryRun"});
}

Status checkQueryParams(const http::Request& req, bool listOptions) {
  const std::string& m = req.method;
  std::vector<std::string_view> ints;
  if (listOptions && (m == "GET" || m == "HEAD" || m == "DELETE")) {
    ints = {"limit", "timeoutSeconds"};
  }
  if (m == "DELETE") ints.push_back("gracePeriodSeconds");
  for (auto name : ints) {
    if (auto v = int64QueryParam(req, name); !v.ok()) return v.status();
  }
  std::string_view options = m == "POST"     ? "CreateOptions"
                             : m == "PUT"    ? "UpdateOptions"
                             : m == "PATCH"  ? "PatchOptions"
                             : m == "DELETE" ? "DeleteOptions"
                                             : "";
  if (!options.empty() && req.hasQueryParam("dryRun")) return checkDryRun(req, options);
  return {};
}

std::string generateNameBase(std::string_view generateName) {
  return std::string(generateName.substr(0, kMaxGenerateNameBase));
}

}  // namespace berth::apiserver
