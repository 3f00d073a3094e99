#pragma once
// The REST surface of the API server: routes Kubernetes API paths to the registry, negotiates
// request and response encodings (JSON, YAML, Kubernetes protobuf; Table for kubectl's human
// output), streams watches, and turns every failure into a metav1.Status response.
//
// Thread-safety: handle() is called concurrently from connection threads; the handler keeps no
// per-request state outside the call.
#include <boost/json/object.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "apiserver/http/server.h"
#include "apiserver/registry.h"
#include "apiserver/request_parsing.h"

namespace berth::apiserver {

// A meta.k8s.io/v1 Table of `objects` (served version) for kubectl's human output: rows carry
// the full object (includeObject "Object"), nothing ("None") or PartialObjectMetadata (default).
boost::json::object makeTable(const core::ResourceType& rt,
                              const std::vector<boost::json::object>& objects,
                              const std::string& resourceVersion, const std::string& includeObject,
                              bool withColumns);

struct ResourceRequest;
struct OutputMedia;
class PodStreamProxy;
class IdentityApi;

// The REST API: routes a request (api_handler.cpp) to discovery, OpenAPI, or a resource verb
// (resource_handlers.cpp: get, list, create, update, patch, delete, deletecollection;
// watch_handler.cpp: watch), replying through replies.h.
// Who a request without credentials is when anonymous auth is on: system:anonymous in the
// group system:unauthenticated.
http::UserInfo anonymousUser();

class ApiHandler {
 public:
  ApiHandler(Registry& registry, CacheSet& cache, std::string serverAddress);

  void handle(http::Request& req, http::ResponseWriter& w);
  // The pods/log, exec, attach and portforward subresources go to `proxy` (pod_streaming.h).
  void setPodStreamProxy(PodStreamProxy* proxy) { podStreams_ = proxy; }
  // Ends open watches promptly (server shutdown).
  void stop() { stopping_.store(true); }
  // Asked about every request after authentication (null: every authenticated user may do
  // everything). Set before serving.
  void setAuthorizer(const authz::Authorizer* authorizer) { authorizer_ = authorizer; }
  // TokenRequest, TokenReview, SelfSubjectReview and OIDC discovery (identity_api.h); whether
  // requests without credentials go on as system:anonymous (request_authn.cpp). Set before
  // serving.
  void setIdentity(const IdentityApi* api, bool anonymousAuth) {
    identity_ = api;
    anonymousAuth_ = anonymousAuth;
  }

 private:
  // The filters in front of routing, upstream's order. Each answers the request itself (401,
  // 403, ...) and returns false when it must go no further.
  // request_authn.cpp: anonymous requests and impersonation (req.user becomes the impersonated
  // user).
  bool authenticateRequest(http::Request& req, http::ResponseWriter& w);
  bool impersonate(http::Request& req, http::ResponseWriter& w);  // Impersonate-* headers
  // request_authz.cpp: the request's attributes from its path and method, asked of authorizer_.
  bool authorizeRequest(http::Request& req, http::ResponseWriter& w);
  void serveOpenApi(http::Request& req, http::ResponseWriter& w,
                    const std::vector<std::string>& segs);
  void serveResource(http::Request& req, http::ResponseWriter& w, const std::string& group,
                     const std::string& version, const std::vector<std::string>& rest);
  void serveGet(ResourceRequest& r);
  void serveList(ResourceRequest& r);
  void serveCreate(ResourceRequest& r);
  void serveUpdate(ResourceRequest& r);
  void servePatch(ResourceRequest& r);
  void serveDelete(ResourceRequest& r);
  void serveDeleteCollection(ResourceRequest& r);
  void serveWatch(http::Request& req, http::ResponseWriter& w, const RequestTarget& t);
  void serveReview(http::Request& req, http::ResponseWriter& w, const core::ResourceType& rt);
  // access_reviews.cpp: the authorization.k8s.io reviews, answered by authorizer_.
  void serveAccessReview(http::Request& req, http::ResponseWriter& w, const RequestTarget& t,
                         const OutputMedia& media);

  Registry& registry_;
  CacheSet& cache_;
  std::string serverAddress_;
  std::atomic<bool> stopping_{false};
  PodStreamProxy* podStreams_ = nullptr;
  const authz::Authorizer* authorizer_ = nullptr;
  const IdentityApi* identity_ = nullptr;
  bool anonymousAuth_ = true;
};

}  // namespace berth::apiserver
