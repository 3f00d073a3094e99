#include "kubelet/probe_http2.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace berth::kubelet {

namespace {

// What the session's callbacks learn about the one stream.
struct StreamState {
  int32_t id = -1;
  Http2Response* response = nullptr;
  size_t maxBody = 0;
  bool closed = false, bodyFull = false;
  uint32_t resetCode = 0;  // the RST_STREAM's error code when the server reset the stream
  bool goaway = false;
  int32_t goawayLastStream = 0;
  uint32_t goawayCode = 0;
  std::string goawayDebug;
};

int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* s = static_cast<StreamState*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != s->id) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":status") {
    int status = std::atoi(v.c_str());
    // An informational (1xx) head is skipped, as Go's transport does; the final one counts.
    if (status >= 200) s->response->status = status;
  } else if (n == "location") {
    s->response->location = v;
  }
  return 0;
}

int onData(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len, void* user) {
  auto* s = static_cast<StreamState*>(user);
  if (stream != s->id) return 0;
  std::string& body = s->response->body;
  size_t take = std::min(len, s->maxBody - std::min(s->maxBody, body.size()));
  body.append(reinterpret_cast<const char*>(data), take);
  if (body.size() >= s->maxBody) s->bodyFull = true;
  return 0;
}

int onStreamClose(nghttp2_session*, int32_t stream, uint32_t errorCode, void* user) {
  auto* s = static_cast<StreamState*>(user);
  if (stream != s->id) return 0;
  s->closed = true;
  s->resetCode = errorCode;
  return 0;
}

int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* s = static_cast<StreamState*>(user);
  if (frame->hd.type != NGHTTP2_GOAWAY) return 0;
  s->goaway = true;
  s->goawayLastStream = frame->goaway.last_stream_id;
  s->goawayCode = frame->goaway.error_code;
  s->goawayDebug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                        frame->goaway.opaque_data_len);
  return 0;
}

using Session = std::unique_ptr<nghttp2_session, decltype(&nghttp2_session_del)>;

Session newSession(StreamState& state) {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return {nullptr, nghttp2_session_del};
  nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onData);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrame);
  nghttp2_session* raw = nullptr;
  int rv = nghttp2_session_client_new(&raw, cbs, &state);
  nghttp2_session_callbacks_del(cbs);
  return {rv == 0 ? raw : nullptr, nghttp2_session_del};
}

// The request's header block: pseudo-headers first, then the handler's headers in lower case
// without the connection-specific ones HTTP/2 forbids (Go's transport drops them too).
std::vector<std::pair<std::string, std::string>> headerBlock(const Http2Request& r) {
  std::vector<std::pair<std::string, std::string>> out = {
      {":method", "GET"}, {":scheme", r.scheme}, {":authority", r.authority}, {":path", r.path}};
  for (auto [name, value] : r.headers) {
    for (auto& ch : name) ch = static_cast<char>(::tolower(static_cast<unsigned char>(ch)));
    if (name == "connection" || name == "proxy-connection" || name == "transfer-encoding" ||
        name == "upgrade" || name == "keep-alive" || name == "host")
      continue;
    if (name == "te" && value != "trailers") continue;
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// Sends whatever the session has queued.
std::string flush(nghttp2_session* session, const Http2Io& io) {
  std::string out;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) return std::string("http2: ") + nghttp2_strerror(static_cast<int>(n));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return out.empty() ? "" : io.write(out);
}

// The outcome once the loop has stopped: Go's texts for a reset stream or a GOAWAY.
std::string outcome(const StreamState& s) {
  if (s.resetCode != NGHTTP2_NO_ERROR && !s.bodyFull)
    return "stream error: stream ID " + std::to_string(s.id) + "; " +
           nghttp2_http2_strerror(s.resetCode) + "; received from peer";
  if (s.response->status != 0) return "";
  if (s.goaway)
    return "http2: server sent GOAWAY and closed the connection; LastStreamID=" +
           std::to_string(s.goawayLastStream) +
           ", ErrCode=" + nghttp2_http2_strerror(s.goawayCode) + ", debug=\"" + s.goawayDebug +
           "\"";
  return "unexpected EOF";
}

}  // namespace

std::string http2Get(const Http2Io& io, const Http2Request& request, Http2Response& response) {
  StreamState state;
  state.response = &response;
  state.maxBody = request.maxBody;
  Session session = newSession(state);
  if (!session) return "http2: cannot create a client session";
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(session.get(), NGHTTP2_FLAG_NONE, settings, 1);
  auto headers = headerBlock(request);
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : headers)
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                   reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  state.id =
      nghttp2_submit_request(session.get(), nullptr, nva.data(), nva.size(), nullptr, nullptr);
  if (state.id < 0) return std::string("http2: ") + nghttp2_strerror(state.id);
  for (;;) {
    if (auto err = flush(session.get(), io); !err.empty()) return err;
    if (state.closed || state.bodyFull) break;
    if (state.goaway && state.id > state.goawayLastStream) break;
    if (!nghttp2_session_want_read(session.get()) && !nghttp2_session_want_write(session.get()))
      break;
    std::string in;
    bool eof = false;
    if (auto err = io.read(in, &eof); !err.empty()) return err;
    if (!in.empty()) {
      ssize_t rv =
          nghttp2_session_mem_recv(session.get(), reinterpret_cast<uint8_t*>(in.data()), in.size());
      if (rv < 0) return std::string("http2: ") + nghttp2_strerror(static_cast<int>(rv));
    }
    // The connection ended before the stream did: a cut body fails as Go's body read does.
    if (eof && !state.closed && !state.bodyFull)
      return response.status == 0 ? outcome(state) : "unexpected EOF";
  }
  return outcome(state);
}

}  // namespace berth::kubelet
