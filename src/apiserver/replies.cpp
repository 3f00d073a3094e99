#include "apiserver/replies.h"

#include <boost/json.hpp>

namespace berth::apiserver {

namespace json = boost::json;
using core::Status;

namespace {
constexpr std::string_view kJson = "application/json";

}  // namespace

// JSON bodies end with the newline Go's json.Encoder writes after every value.
void sendStatus(http::ResponseWriter& w, const Status& st) {
  w.send(st.code() == 0 ? 200 : st.code(), kJson, st.toJsonString());
}

void sendJson(http::ResponseWriter& w, int code, std::string_view body) {
  std::string b;
  b.reserve(body.size() + 1);
  b.append(body).push_back('\n');
  w.send(code, kJson, b);
}

// A body (JSON text) in the negotiated media type; Status errors too, as upstream negotiates them.
void sendEncoded(http::ResponseWriter& w, int code, const OutputMedia& media, std::string body) {
  std::string contentType;
  std::string out = encodeResponse(media, std::move(body), contentType);
  w.send(code, contentType, out);
}

void sendStatusAs(http::ResponseWriter& w, const OutputMedia& media, const Status& st) {
  // A Status is never transformed; upstream negotiates it without the as= clauses.
  OutputMedia m = media;
  if (media.partial != PartialMetadata::kNone) m = OutputMedia{media.statusKind};
  sendEncoded(w, st.code() == 0 ? 200 : st.code(), m, json::serialize(st.toJson()));
}

}  // namespace berth::apiserver
