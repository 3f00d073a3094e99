#include "core/status.h"

#include <boost/json.hpp>

namespace berth::core {
namespace {

Status make(int code, std::string reason, std::string message) {
  return Status::generic(code, std::move(reason), std::move(message));
}

// "deployments.apps" → name "deployments", group "apps"; upstream prints the qualified form.
std::pair<std::string, std::string> splitResource(std::string_view qualified) {
  auto dot = qualified.find('.');
  if (dot == std::string_view::npos) return {std::string(qualified), ""};
  return {std::string(qualified.substr(0, dot)), std::string(qualified.substr(dot + 1))};
}

}  // namespace

Status Status::generic(int code, std::string reason, std::string message) {
  Status s;
  s.code_ = code;
  s.reason_ = std::move(reason);
  s.message_ = std::move(message);
  return s;
}

Status Status::notFound(std::string_view resource, std::string_view name) {
  auto s =
      make(404, "NotFound", std::string(resource) + " \"" + std::string(name) + "\" not found");
  auto [res, group] = splitResource(resource);
  return s.withDetails(name, group, res);
}

Status Status::alreadyExists(std::string_view resource, std::string_view name) {
  auto s = make(409, "AlreadyExists",
                std::string(resource) + " \"" + std::string(name) + "\" already exists");
  auto [res, group] = splitResource(resource);
  return s.withDetails(name, group, res);
}

Status Status::conflict(std::string_view resource, std::string_view name, std::string_view why) {
  auto s = make(409, "Conflict",
                "Operation cannot be fulfilled on " + std::string(resource) + " \"" +
                    std::string(name) + "\": " + std::string(why));
  auto [res, group] = splitResource(resource);
  return s.withDetails(name, group, res);
}

Status Status::staleResourceVersion(std::string_view resource, std::string_view name) {
  return conflict(resource, name,
                  "the object has been modified; please apply your changes to the latest "
                  "version and try again");
}

std::string formatInvalidMessage(std::string_view group, std::string_view kind,
                                 std::string_view name, const std::vector<StatusCause>& causes) {
  // Upstream prints the GroupKind: "Deployment.apps", plain "Pod" for the core group.
  std::string msg = std::string(kind) + (group.empty() ? "" : "." + std::string(group)) + " \"" +
                    std::string(name) + "\" is invalid: ";
  auto one = [](const StatusCause& c) {
    return c.field.empty() ? c.message : c.field + ": " + c.message;
  };
  if (causes.size() == 1) return msg + one(causes[0]);
  msg += "[";
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i) msg += ", ";
    msg += one(causes[i]);
  }
  return msg + "]";
}

Status Status::invalid(std::string_view group, std::string_view kind, std::string_view name,
                       std::vector<StatusCause> causes) {
  auto s = make(422, "Invalid", formatInvalidMessage(group, kind, name, causes));
  s.causes_ = std::move(causes);
  return s.withDetails(name, group, kind);
}

Status Status::badRequest(std::string m) { return make(400, "BadRequest", std::move(m)); }
Status Status::unauthorized(std::string m) { return make(401, "Unauthorized", std::move(m)); }
Status Status::forbidden(std::string m) { return make(403, "Forbidden", std::move(m)); }
Status Status::methodNotSupported(std::string m) {
  return make(405, "MethodNotAllowed", std::move(m));
}
Status Status::notAcceptable(std::string m) { return make(406, "NotAcceptable", std::move(m)); }
Status Status::unsupportedMediaType(std::string m) {
  return make(415, "UnsupportedMediaType", std::move(m));
}
Status Status::expired(std::string m) { return make(410, "Expired", std::move(m)); }
Status Status::gone(std::string m) { return make(410, "Gone", std::move(m)); }
Status Status::tooManyRequests(std::string m, int retryAfter) {
  auto s = make(429, "TooManyRequests", std::move(m));
  s.retryAfter_ = retryAfter;
  return s;
}
Status Status::internal(std::string m) { return make(500, "InternalError", std::move(m)); }
Status Status::unavailable(std::string m) { return make(503, "ServiceUnavailable", std::move(m)); }
Status Status::timeout(std::string m) { return make(504, "Timeout", std::move(m)); }
Status Status::requestEntityTooLarge(std::string m) {
  return make(413, "RequestEntityTooLarge", std::move(m));
}

Status& Status::withDetails(std::string_view name, std::string_view group, std::string_view kind) {
  name_ = name;
  group_ = group;
  kind_ = kind;
  return *this;
}

boost::json::object Status::toJson() const {
  boost::json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = boost::json::object();
  o["status"] = ok() ? "Success" : "Failure";
  if (!message_.empty()) o["message"] = message_;
  if (!reason_.empty()) o["reason"] = reason_;
  if (!name_.empty() || !kind_.empty() || !causes_.empty() || retryAfter_ > 0) {
    boost::json::object d;
    if (!name_.empty()) d["name"] = name_;
    if (!group_.empty()) d["group"] = group_;
    if (!kind_.empty()) d["kind"] = kind_;
    if (!causes_.empty()) {
      boost::json::array cs;
      for (const auto& c : causes_) {
        boost::json::object co;
        if (!c.reason.empty()) co["reason"] = c.reason;
        if (!c.message.empty()) co["message"] = c.message;
        if (!c.field.empty()) co["field"] = c.field;
        cs.push_back(std::move(co));
      }
      d["causes"] = std::move(cs);
    }
    if (retryAfter_ > 0) d["retryAfterSeconds"] = retryAfter_;
    o["details"] = std::move(d);
  }
  o["code"] = ok() ? 200 : code_;
  return o;
}

std::string Status::toJsonString() const { return boost::json::serialize(toJson()) + "\n"; }

}  // namespace berth::core
