#pragma once
// /livez, /readyz and /healthz as upstream serves them (k8s.io/apiserver/pkg/server/healthz):
// each endpoint runs its named checks in order; `?verbose` lists "[+]name ok" lines and
// "<endpoint> check passed"; `?exclude=name` skips a check ("[+]name excluded: ok"); a failing
// check makes the endpoint answer 500 with "[-]name failed: reason withheld" (the reason is
// only shown on the check's own path, /<endpoint>/<name>, and in the server log). Unknown check
// paths are 404. The endpoints are public, as upstream's system:public-info-viewer role makes
// them.
//
// Thread-safety: add() during setup, before serving; serve() from any number of threads. Check
// functions run on the request's thread and must be thread-safe and quick.
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/http/server.h"
#include "core/status.h"

namespace berth::apiserver::health {

// OK, or the failure's reason.
using CheckFn = std::function<core::Status()>;

class Checks {
 public:
  // Adds a check named `name` ("ping", "etcd", "poststarthook/...") to the given endpoints
  // ("livez", "readyz", "healthz"), after the checks added before it.
  void add(std::string name, CheckFn check, std::initializer_list<std::string_view> endpoints);
  // Answers /livez, /readyz, /healthz and their /<check> paths; false (nothing written) for any
  // other path.
  bool serve(const http::Request& request, http::ResponseWriter& writer) const;

 private:
  struct Check {
    std::string name;
    CheckFn run;
  };
  struct Endpoint {
    std::string name;  // "livez"
    std::vector<Check> checks;
  };
  void serveRoot(const Endpoint& endpoint, const http::Request& request,
                 http::ResponseWriter& writer) const;

  std::vector<Endpoint> endpoints_;
};

}  // namespace berth::apiserver::health
