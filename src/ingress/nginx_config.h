#pragma once
// The nginx configuration for a set of networking.k8s.io/v1 Ingresses, as an ingress
// controller renders it: one server block per host (plus the default server for rules without a
// host and for unknown hosts), one location per path with upstream's matching (Exact →
// `location =`; Prefix → element-wise prefix, so /foo matches /foo and /foo/bar but not
// /foobar; the longest path wins, Exact before Prefix), proxying to the ready endpoints of the
// backend Service port (nginx upstream blocks, round robin), 503 when a backend has none, 404
// for paths no rule covers unless a defaultBackend is set, TLS server blocks from Secrets.
//
// Pure: the caller supplies endpoints and certificate files (ingress_controller.cpp).
#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace berth::ingress {

struct NginxInput {
  std::vector<boost::json::object> ingresses;  // those this controller serves
  // Ready endpoints "ip:port" of a Service port (number or name) in a namespace.
  std::function<std::vector<std::string>(const std::string& ns, const std::string& service,
                                         const std::string& port)>
      endpoints;
  // PEM files (certificate, key) of a kubernetes.io/tls Secret, or empty when it is missing.
  std::function<std::pair<std::string, std::string>(const std::string& ns,
                                                    const std::string& secret)>
      tlsFiles;
  std::string stateDir;  // pid file, temp paths
  int httpPort = 80;
  int httpsPort = 443;
  std::string listenAddress;  // empty = all addresses
};

std::string renderNginxConfig(const NginxInput& in);

}  // namespace berth::ingress
