#pragma once
// One request for a resource, after routing and negotiation: what each verb handler of
// ApiHandler needs (the target, the negotiated output, write options) and the replies it sends.
// Lives for one request, on the connection's thread.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "apiserver/http/server.h"
#include "apiserver/negotiation.h"
#include "apiserver/registry.h"
#include "apiserver/replies.h"
#include "apiserver/request_parsing.h"

namespace berth::apiserver {

struct ResourceRequest {
  http::Request& req;
  http::ResponseWriter& w;
  RequestTarget t;
  const core::ResourceType& rt;
  OutputMedia media;
  WriteOptions wo;
  std::string include;  // includeObject for Table output
  // Admission's warnings (wo.warnings points here), sent as "Warning:" headers with the answer.
  std::vector<std::string> warnings;

  bool table() const { return media.table; }
  void status(const core::Status& st) const {
    sendWarnings();
    sendStatusAs(w, media, st);
  }
  // A JSON body in the negotiated media type (PartialObjectMetadata when asked for).
  void body(int code, std::string json) const;
  // A JSON body already in the form the media asks for (no PartialObjectMetadata pass).
  void transformedBody(int code, std::string json) const {
    sendWarnings();
    sendEncoded(w, code, media, std::move(json));
  }
  void sendWarnings() const;
  // An object (served version), as a Table when asked, with Go's zero fields where it was not
  // read as stored.
  void object(int code, boost::json::object obj) const;
  void result(int code, core::Result<boost::json::object>&& r) const {
    if (!r.ok()) {
      status(r.status());
      return;
    }
    object(code, std::move(*r));
  }
  // A write's reply: the registry's own encoding of what it stored (wo.storedJson) when it gave
  // one and the reply is that object as JSON, else result() above.
  void written(int code, core::Result<boost::json::object>&& r, std::string&& storedJson) const {
    if (r.ok() && !storedJson.empty() && !table() && t.subresource.empty()) {
      body(code, std::move(storedJson));
      return;
    }
    result(code, std::move(r));
  }
};

}  // namespace berth::apiserver
