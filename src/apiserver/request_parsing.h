#pragma once
// Reading a REST request: the path into a resource target, the body by Content-Type into JSON,
// and the query into list and delete options, with upstream's checks and error messages. Pure
// functions of the request; the handlers in api_handler.cpp and resource_handlers.cpp use them.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/http/server.h"
#include "apiserver/registry.h"
#include "core/resources.h"
#include "core/result.h"

namespace berth::apiserver {

// Where a resource request points.
struct RequestTarget {
  const core::ResourceType* rt = nullptr;
  std::string ns;
  std::string name;
  std::string subresource;
};

// A boolean query parameter as upstream's parameter codec reads it: anything but "", "0" and
// "false" (any case) is true (watch=yes, watch=True, watch=1).
bool parseGoBool(std::string_view value);

std::vector<std::string> splitPath(std::string_view path);

// Parses the path after /api/v1 or /apis/g/v (`segs`) into a target; NotFound when it names no
// served resource or subresource shape.
core::Result<RequestTarget> resolveTarget(std::string_view group, std::string_view version,
                                          const std::vector<std::string>& segs);

// The body decoded by Content-Type (JSON, YAML, Kubernetes protobuf) into JSON.
core::Result<boost::json::value> decodeBody(const http::Request& req);
core::Result<boost::json::object> decodeObjectBody(const http::Request& req);

// fieldValidation=Strict|Warn|Ignore (default Warn): unknown fields per the type schema; Warn
// adds Warning headers to `w`.
core::Status checkUnknownFields(const http::Request& req, const core::ResourceType& rt,
                                const boost::json::object& obj, http::ResponseWriter& w);
// What upstream checks before a server-side apply runs.
core::Status checkApplyRequest(const http::Request& req, const core::ResourceType& rt,
                               const boost::json::value& patch, bool sameKind);
// The default field manager: the user agent's product name.
std::string userAgentManager(const http::Request& req);

core::Result<DeleteOptions> deleteOptionsFrom(const http::Request& req);
core::Result<ListRequest> listRequestFrom(const http::Request& req, const RequestTarget& t);

}  // namespace berth::apiserver
