// The authorization filter: every request's attributes (upstream's RequestInfo, computed from
// method, path and query) asked of the configured authorizer; a denial is upstream's 403.
#include "apiserver/api_handler.h"
#include "apiserver/authz/request_info.h"
#include "apiserver/replies.h"

namespace berth::apiserver {

bool ApiHandler::authorizeRequest(http::Request& req, http::ResponseWriter& w) {
  if (authorizer_ == nullptr) return true;
  authz::Attributes a = authz::requestAttributes(req.method, req.path, req.query);
  a.user = req.user;
  authz::Verdict v = authorizer_->authorize(a);
  if (v.allowed()) return true;
  sendStatus(w, authz::forbiddenStatus(a, v.reason));
  return false;
}

}  // namespace berth::apiserver
