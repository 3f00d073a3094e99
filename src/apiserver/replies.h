#pragma once
// Reply helpers shared by every handler of the REST API (resources, watch, discovery, reviews):
// bodies and Status errors, JSON-only or in the media type negotiated for the request. JSON
// bodies end with the newline Go's json.Encoder writes.
#include <string>
#include <string_view>

#include "apiserver/http/server.h"
#include "apiserver/negotiation.h"
#include "core/status.h"

namespace berth::apiserver {

// JSON-only replies (discovery, errors before negotiation).
void sendStatus(http::ResponseWriter& w, const core::Status& st);
void sendJson(http::ResponseWriter& w, int code, std::string_view body);

// A body (JSON text) in the negotiated media type; Status errors too, as upstream negotiates them.
void sendEncoded(http::ResponseWriter& w, int code, const OutputMedia& media, std::string body);
void sendStatusAs(http::ResponseWriter& w, const OutputMedia& media, const core::Status& st);

}  // namespace berth::apiserver
