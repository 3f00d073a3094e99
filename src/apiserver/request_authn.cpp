// The authentication filters after the transport's (client certificate or bearer token, in
// http::Server): anonymous requests and impersonation.
#include "apiserver/api_handler.h"
#include "apiserver/replies.h"

namespace berth::apiserver {

bool ApiHandler::authenticateRequest(http::Request& req, http::ResponseWriter& w) {
  if (req.user.anonymous()) {
    sendStatus(w, core::Status::unauthorized());
    return false;
  }
  return true;
}

}  // namespace berth::apiserver
