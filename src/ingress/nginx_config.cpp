#include "ingress/nginx_config.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/json_access.h"

namespace berth::ingress {

namespace json = boost::json;
using core::objectField;
using core::stringField;

namespace {

struct Route {
  std::string path;      // normalised: no trailing slash except "/"
  bool exact = false;
  std::string upstream;  // nginx upstream name, empty = 503 (no endpoints)
};

struct Server {
  std::vector<Route> routes;
  std::string tlsCert, tlsKey;
};

std::string portOf(const json::object& backendService) {
  const auto* port = objectField(backendService, "port");
  if (!port) return "";
  if (auto* n = port->if_contains("number"); n && n->is_int64()) return std::to_string(n->as_int64());
  return stringField(*port, "name");
}

// Characters nginx would read as syntax are never emitted: names come from validated objects,
// but a path is user text, so anything outside the URL path alphabet is dropped.
std::string safePath(std::string_view p) {
  std::string out;
  for (char c : p) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/-._~%!&()*+,:@=").find(c) != std::string_view::npos)
      out += c;
  }
  if (out.empty() || out[0] != '/') out.insert(out.begin(), '/');
  return out;
}

std::string safeHost(std::string_view h) {
  std::string out;
  for (char c : h) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*') out += c;
  }
  return out;
}

}  // namespace

std::string renderNginxConfig(const NginxInput& in) {
  std::map<std::string, std::vector<std::string>> upstreams;  // name → servers
  std::map<std::string, Server> servers;                      // host ("" = default) → routes
  std::string defaultUpstream;                                // from a defaultBackend
  bool haveDefault = false;

  auto upstreamFor = [&](const std::string& ns, const json::object& backend) -> std::string {
    const auto* svc = objectField(backend, "service");
    if (!svc) return "";
    std::string name = stringField(*svc, "name"), port = portOf(*svc);
    std::vector<std::string> eps = in.endpoints ? in.endpoints(ns, name, port) : std::vector<std::string>{};
    if (eps.empty()) return "";
    std::sort(eps.begin(), eps.end());
    std::string id = "u_" + ns + "_" + name + "_" + port;
    for (char& c : id)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    upstreams[id] = eps;
    return id;
  };

  // Oldest Ingress first, so the first one claiming a host and path keeps it (upstream's
  // conflict rule in ingress-nginx).
  std::vector<const json::object*> ordered;
  for (const auto& ing : in.ingresses) ordered.push_back(&ing);
  std::stable_sort(ordered.begin(), ordered.end(), [](const json::object* a, const json::object* b) {
    auto ts = [](const json::object* o) {
      const auto* m = objectField(*o, "metadata");
      return m ? stringField(*m, "creationTimestamp") + "/" + stringField(*m, "namespace") + "/" +
                     stringField(*m, "name")
               : std::string();
    };
    return ts(a) < ts(b);
  });

  std::set<std::string> claimed;  // host + (exact ? "=" : "~") + path
  for (const json::object* ing : ordered) {
    const auto* meta = objectField(*ing, "metadata");
    const auto* spec = objectField(*ing, "spec");
    if (!meta || !spec) continue;
    std::string ns = stringField(*meta, "namespace");
    if (const auto* db = objectField(*spec, "defaultBackend"); db && !haveDefault) {
      defaultUpstream = upstreamFor(ns, *db);
      haveDefault = true;
    }
    std::map<std::string, std::pair<std::string, std::string>> tlsByHost;
    if (auto* tls = spec->if_contains("tls"); tls && tls->is_array()) {
      for (const auto& t : tls->as_array()) {
        if (!t.is_object()) continue;
        std::string secret = stringField(t.as_object(), "secretName");
        auto files = in.tlsFiles && !secret.empty() ? in.tlsFiles(ns, secret)
                                                    : std::pair<std::string, std::string>{};
        if (files.first.empty()) continue;
        if (auto* hosts = t.as_object().if_contains("hosts"); hosts && hosts->is_array())
          for (const auto& h : hosts->as_array())
            if (h.is_string()) tlsByHost[safeHost(h.as_string())] = files;
      }
    }
    auto* rules = spec->if_contains("rules");
    if (!rules || !rules->is_array()) continue;
    for (const auto& r : rules->as_array()) {
      if (!r.is_object()) continue;
      std::string host = safeHost(stringField(r.as_object(), "host"));
      Server& server = servers[host];
      if (auto it = tlsByHost.find(host); it != tlsByHost.end() && server.tlsCert.empty()) {
        server.tlsCert = it->second.first;
        server.tlsKey = it->second.second;
      }
      const auto* http = objectField(r.as_object(), "http");
      auto* paths = http ? http->if_contains("paths") : nullptr;
      if (!paths || !paths->is_array()) continue;
      for (const auto& p : paths->as_array()) {
        if (!p.is_object()) continue;
        const auto& po = p.as_object();
        Route route;
        route.path = safePath(stringField(po, "path").empty() ? "/" : stringField(po, "path"));
        route.exact = stringField(po, "pathType") == "Exact";
        // A prefix matches whole path elements: "/foo/" is the same prefix as "/foo".
        while (!route.exact && route.path.size() > 1 && route.path.back() == '/')
          route.path.pop_back();
        if (!claimed.insert(host + (route.exact ? "=" : "~") + route.path).second) continue;
        if (const auto* backend = objectField(po, "backend")) route.upstream = upstreamFor(ns, *backend);
        server.routes.push_back(std::move(route));
      }
    }
  }

  std::ostringstream c;
  const std::string& d = in.stateDir;
  c << "# Generated by berth's ingress controller; rewritten on every change.\n"
    << "worker_processes 1;\npid " << d << "/nginx.pid;\nerror_log " << d << "/error.log warn;\n"
    << "events { worker_connections 4096; }\n"
    << "http {\n"
    << "  access_log off;\n"
    << "  client_body_temp_path " << d << "/tmp/body;\n  proxy_temp_path " << d << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << d << "/tmp/scgi;\n"
    << "  server_names_hash_bucket_size 128;\n"
    << "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
    << "  proxy_http_version 1.1;\n"
    << "  proxy_set_header Host $host;\n"
    << "  proxy_set_header Upgrade $http_upgrade;\n"
    << "  proxy_set_header Connection $connection_upgrade;\n"
    << "  proxy_set_header X-Real-IP $remote_addr;\n"
    << "  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
    << "  proxy_set_header X-Forwarded-Proto $scheme;\n"
    << "  proxy_next_upstream error timeout;\n";
  for (const auto& [name, eps] : upstreams) {
    c << "  upstream " << name << " {\n";
    for (const auto& e : eps) c << "    server " << e << ";\n";
    c << "    keepalive 16;\n  }\n";
  }
  std::string addr = in.listenAddress.empty() ? "" : in.listenAddress + ":";
  auto location = [&](const std::string& match, const std::string& upstream) {
    c << "    location " << match << " { ";
    if (upstream.empty()) {
      c << "return 503; }\n";
    } else {
      c << "proxy_pass http://" << upstream << "; }\n";
    }
  };
  auto writeRoutes = [&](const Server& s) {
    for (const auto& r : s.routes) {
      if (r.exact) {
        location("= " + r.path, r.upstream);
      } else if (r.path == "/") {
        location("/", r.upstream);
      } else {
        location("= " + r.path, r.upstream);
        location(r.path + "/", r.upstream);
      }
    }
  };
  auto fallback = [&](const Server& s) {
    bool hasRoot = std::any_of(s.routes.begin(), s.routes.end(),
                               [](const Route& r) { return r.path == "/" && !r.exact; });
    if (hasRoot) return;
    if (haveDefault) {
      location("/", defaultUpstream);
    } else {
      c << "    location / { return 404; }\n";
    }
  };
  // The default server: rules without a host, then the default backend or 404.
  const Server* any = servers.count("") ? &servers.at("") : nullptr;
  c << "  server {\n    listen " << addr << in.httpPort << " default_server;\n"
    << "    server_name _;\n";
  if (any) writeRoutes(*any);
  fallback(any ? *any : Server{});
  c << "  }\n";
  for (const auto& [host, s] : servers) {
    if (host.empty()) continue;
    for (bool tls : {false, true}) {
      if (tls && s.tlsCert.empty()) continue;
      c << "  server {\n    listen " << addr << (tls ? in.httpsPort : in.httpPort)
        << (tls ? " ssl" : "") << ";\n    server_name " << host << ";\n";
      if (tls)
        c << "    ssl_certificate " << s.tlsCert << ";\n    ssl_certificate_key " << s.tlsKey
          << ";\n";
      writeRoutes(s);
      fallback(s);  // a host's unmatched paths go to the default backend (ingress-nginx)
      c << "  }\n";
    }
  }
  c << "}\n";
  return c.str();
}

}  // namespace berth::ingress
