#pragma once
// Status: a Kubernetes API error as a value (metav1.Status with status "Failure").
//
// Every fallible operation in Berth returns a Status (or a Result<T> carrying one) instead of
// throwing. The reasons and HTTP codes follow upstream apimachinery's StatusReason table, so the
// API server can hand a Status straight to a client and kubectl prints
// "Error from server (<Reason>): <message>".
//
// Thread-safety: a plain value type; copies are independent.
#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace berth::core {

// One invalid field, as metav1.StatusCause: reason is a CauseType such as "FieldValueInvalid",
// "FieldValueRequired", "FieldValueNotSupported", "FieldValueDuplicate", "FieldValueForbidden",
// "FieldValueTooLong", "FieldManagerConflict"; field is a JSON path like "metadata.name".
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

class Status {
 public:
  Status() = default;  // OK

  bool ok() const { return code_ == 0; }
  int code() const { return code_; }                     // HTTP status code; 0 when ok
  const std::string& reason() const { return reason_; }  // e.g. "NotFound"
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }
  const std::string& detailName() const { return name_; }
  const std::string& detailGroup() const { return group_; }
  const std::string& detailKind() const { return kind_; }
  int retryAfterSeconds() const { return retryAfter_; }

  bool isNotFound() const { return reason_ == "NotFound"; }
  bool isAlreadyExists() const { return reason_ == "AlreadyExists"; }
  bool isConflict() const { return reason_ == "Conflict"; }
  bool isInvalid() const { return reason_ == "Invalid"; }
  bool isExpired() const { return reason_ == "Expired" || reason_ == "Gone"; }

  // Builders. `resource` is the plural resource ("pods") optionally qualified with its group
  // ("deployments.apps"), as upstream prints it: `pods "x" not found`.
  static Status notFound(std::string_view resource, std::string_view name);
  static Status alreadyExists(std::string_view resource, std::string_view name);
  static Status conflict(std::string_view resource, std::string_view name, std::string_view why);
  // The standard optimistic-concurrency failure message.
  static Status staleResourceVersion(std::string_view resource, std::string_view name);
  // `kind` is the Kind ("Pod"), `group` its API group ("" for core).
  static Status invalid(std::string_view group, std::string_view kind, std::string_view name,
                        std::vector<StatusCause> causes);
  static Status badRequest(std::string message);
  static Status unauthorized(std::string message = "Unauthorized");
  static Status forbidden(std::string message);
  static Status methodNotSupported(std::string message);
  static Status notAcceptable(std::string message);
  static Status unsupportedMediaType(std::string message);
  static Status expired(std::string message);  // 410, reason Expired
  static Status gone(std::string message);     // 410, reason Gone
  static Status tooManyRequests(std::string message, int retryAfterSeconds = 0);
  static Status internal(std::string message);
  static Status unavailable(std::string message);
  static Status timeout(std::string message);  // 504 Timeout
  static Status requestEntityTooLarge(std::string message);
  static Status generic(int code, std::string reason, std::string message);

  Status& withDetails(std::string_view name, std::string_view group, std::string_view kind);
  Status& withCauses(std::vector<StatusCause> causes) {
    causes_ = std::move(causes);
    return *this;
  }
  Status& withRetryAfter(int seconds) {
    retryAfter_ = seconds;
    return *this;
  }

  // Serialize as a metav1.Status object ({"kind":"Status","apiVersion":"v1",...}).
  boost::json::object toJson() const;
  // As a JSON response body: the object and the newline Go's json.Encoder ends it with.
  std::string toJsonString() const;

 private:
  int code_ = 0;
  std::string reason_;
  std::string message_;
  std::string name_, group_, kind_;
  std::vector<StatusCause> causes_;
  int retryAfter_ = 0;
};

// Message of an Invalid status, formatted as upstream's NewInvalid does:
// `Pod "x" is invalid: [field: Invalid value: ...: msg, ...]`, `Deployment.apps "x" is ...`.
std::string formatInvalidMessage(std::string_view group, std::string_view kind,
                                 std::string_view name, const std::vector<StatusCause>& causes);

}  // namespace berth::core
