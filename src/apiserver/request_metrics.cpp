// Request accounting (see request_metrics.h).
#include "apiserver/request_metrics.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "apiserver/authz/request_info.h"

namespace berth::apiserver {
namespace {

std::vector<std::string> pathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Convert_Slice_string_To_bool, which upstream's watch parameter goes through.
bool watchRequested(const http::Request& request) {
  if (!request.hasQueryParam("watch")) return false;
  std::string value = lower(request.queryParam("watch"));
  return value != "false" && value != "0";
}

// upstream's cleanDryRun: the sorted distinct values, or "invalid" (only "All" is valid).
std::string cleanDryRun(const http::Request& request) {
  std::set<std::string> values;
  for (auto [it, end] = request.query.equal_range("dryRun"); it != end; ++it) {
    if (it->second != "All") return "invalid";
    values.insert(it->second);
  }
  return values.empty() ? "" : "All";
}

// The fixed non-resource paths worth a series of their own; others are not recorded.
bool knownNonResourcePath(const std::vector<std::string>& segs, std::string* label) {
  static const std::set<std::string> kRoots = {"healthz", "livez", "readyz", "metrics",
                                               "version", "api",   "apis"};
  if (segs.empty()) {
    *label = "/";
    return true;
  }
  if (segs.size() == 1 && kRoots.count(segs[0])) {
    *label = "/" + segs[0];
    return true;
  }
  if (segs[0] == "openapi" && segs.size() >= 2 && (segs[1] == "v2" || segs[1] == "v3")) {
    *label = "/openapi/" + segs[1];  // per-group v3 documents collapse into one series
    return true;
  }
  if (segs[0] == "api" && segs.size() == 2 && segs[1] == "v1") {
    *label = "/api/v1";
    return true;
  }
  if (segs[0] == "apis" && segs.size() <= 3) {
    for (const auto& g : core::apiGroups()) {
      if (g.group != segs[1]) continue;
      if (segs.size() == 3 &&
          std::find(g.versions.begin(), g.versions.end(), segs[2]) == g.versions.end()) {
        return false;
      }
      *label = "/apis/" + segs[1] + (segs.size() == 3 ? "/" + segs[2] : "");
      return true;
    }
  }
  return false;
}

// Upstream's CanonicalVerb + cleanVerb.
std::string reportedVerbFor(const http::Request& request, const RequestInfo& info) {
  static const std::set<std::string> kValid = {
      "APPLY", "CONNECT", "CREATE", "DELETE", "DELETECOLLECTION", "GET",   "LIST",
      "PATCH", "POST",    "PROXY",  "PUT",    "UPDATE",           "WATCH", "WATCHLIST"};
  static const std::set<std::string> kConnect = {"log", "exec", "portforward", "attach", "proxy"};
  std::string verb = request.method;
  if (verb == "GET" || verb == "HEAD") {
    verb = info.scope != "resource" && !info.scope.empty() ? "LIST" : "GET";
  }
  if (info.verb == "watch" || ((request.method == "GET") && watchRequested(request))) {
    verb = "WATCH";
  }
  if (verb == "PATCH" && request.header("content-type") == "application/apply-patch+yaml") {
    verb = "APPLY";
  }
  if (info.isResourceRequest && kConnect.count(info.subresource)) verb = "CONNECT";
  return kValid.count(verb) ? verb : "other";
}

// Records the status code the wrapped handler answers with; forwards everything.
class StatusRecorder final : public http::ResponseWriter {
 public:
  // `done(code, anonymous)` records the request once it is over: when the handler returns, or,
  // for a stream the handler detached (a watch), when that stream ends.
  using Done = std::function<void(int code, bool anonymous)>;
  StatusRecorder(http::ResponseWriter& inner, const http::Request& request, Done done)
      : inner_(inner), request_(request), done_(std::move(done)) {}
  int status() const { return status_ == 0 ? 500 : status_; }  // no answer: the server's 500
  bool detached() const { return detached_; }

  void addHeader(std::string_view name, std::string_view value) override {
    inner_.addHeader(name, value);
  }
  void send(int status, std::string_view contentType, std::string_view body) override {
    if (status_ == 0) status_ = status;
    inner_.send(status, contentType, body);
  }
  bool beginStream(int status, std::string_view contentType) override {
    if (status_ == 0) status_ = status;
    return inner_.beginStream(status, contentType);
  }
  bool writeChunk(std::string_view data) override { return inner_.writeChunk(data); }
  void endStream() override { inner_.endStream(); }
  bool clientConnected() override { return inner_.clientConnected(); }
  http::RawStream* switchProtocols() override {
    http::RawStream* raw = inner_.switchProtocols();
    if (raw != nullptr && status_ == 0) status_ = 101;
    return raw;
  }
  std::shared_ptr<http::StreamWaker> detachStream(
      std::shared_ptr<http::StreamSource> source) override {
    // The request (and its user, impersonation applied) is gone by the time the stream ends.
    auto finish = [done = done_, code = status(), anonymous = request_.user.anonymous()] {
      done(code, anonymous);
    };
    auto waker = inner_.detachStream(http::withCloseHook(std::move(source), std::move(finish)));
    if (waker) detached_ = true;
    return waker;
  }

 private:
  http::ResponseWriter& inner_;
  const http::Request& request_;
  Done done_;
  int status_ = 0;
  bool detached_ = false;
};

}  // namespace

// The request's attributes come from the parser the authorizer uses (authz/request_info.h),
// so metrics, audit and authorization always agree on what a request is; the fields only
// metrics need (scope, reported verb, long-running, served type) are derived here.
RequestInfo requestInfoFor(const http::Request& request) {
  RequestInfo info;
  info.dryRun = cleanDryRun(request);
  const std::string& method = request.method;
  authz::Attributes a = authz::requestAttributes(method, request.path, request.query);
  if (!a.resourceRequest) {
    info.path = request.path;
    info.verb = lower(method);
    info.mutating = method != "GET" && method != "HEAD" && method != "OPTIONS";
    info.reportedVerb = reportedVerbFor(request, info);
    return info;
  }
  info.isResourceRequest = true;
  info.verb = a.verb;
  info.group = a.apiGroup;
  info.version = a.apiVersion;
  info.resource = a.resource;
  info.subresource = a.subresource;
  info.namespace_ = a.ns;
  info.name = a.name;
  if (!info.name.empty() || info.verb == "create") {
    info.scope = "resource";
  } else if (!info.namespace_.empty()) {
    info.scope = "namespace";
  } else {
    info.scope = "cluster";
  }
  static const std::set<std::string> kLongRunningSubresources = {"attach", "exec", "proxy", "log",
                                                                 "portforward"};
  info.longRunning = info.verb == "watch" || info.verb == "proxy" ||
                     kLongRunningSubresources.count(info.subresource) > 0;
  info.mutating = info.verb != "get" && info.verb != "list" && info.verb != "watch";
  info.type = core::findResource(info.group, info.version, info.resource);
  if (info.type != nullptr && !info.subresource.empty() &&
      !info.type->hasSubresource(info.subresource)) {
    info.type = nullptr;  // not something the server serves
  }
  info.reportedVerb = reportedVerbFor(request, info);
  return info;
}

// Names, labels and help texts as upstream's component-base prints them (stability level first).
RequestMetrics::RequestMetrics(metrics::Registry& registry)
    : requests_(registry.counter("apiserver_request_total",
                                 "[STABLE] Counter of apiserver requests broken out for each verb, "
                                 "dry run value, group, version, resource, scope, component, and "
                                 "HTTP response code.",
                                 {"verb", "dry_run", "group", "version", "resource", "subresource",
                                  "scope", "component", "code"})),
      durations_(registry.histogram(
          "apiserver_request_duration_seconds",
          "[STABLE] Response latency distribution in seconds for each verb, dry run value, group, "
          "version, resource, subresource, scope and component.",
          {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"},
          metrics::requestDurationBuckets())),
      inflight_(
          registry.gauge("apiserver_current_inflight_requests",
                         "[STABLE] Maximal number of currently used inflight request limit of this "
                         "apiserver per request kind in last second.",
                         {"request_kind"})),
      longRunning_(registry.gauge(
          "apiserver_longrunning_requests",
          "[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, "
          "version, resource, scope and component. Not all requests are tracked this way.",
          {"verb", "group", "version", "resource", "subresource", "scope", "component"})),
      watchers_(
          registry.gauge("apiserver_registered_watchers",
                         "[ALPHA] Number of currently registered watchers for a given resources",
                         {"group", "version", "kind"})) {
  inflight_.with({"mutating"});
  inflight_.with({"readOnly"});
}

void RequestMetrics::instrument(http::Request& request, http::ResponseWriter& writer,
                                const http::Handler& next) {
  auto start = std::chrono::steady_clock::now();
  RequestInfo info = requestInfoFor(request);
  std::string nonResourcePath;
  bool nonResourceKnown =
      !info.isResourceRequest && knownNonResourcePath(pathSegments(info.path), &nonResourcePath);
  // Upstream's health endpoints are instrumented without a component.
  std::string component =
      info.isResourceRequest || (nonResourcePath != "/healthz" && nonResourcePath != "/livez" &&
                                 nonResourcePath != "/readyz")
          ? "apiserver"
          : "";
  std::string subresource = info.isResourceRequest ? info.subresource : nonResourcePath;
  metrics::Gauge* running = nullptr;
  metrics::Gauge* watcher = nullptr;
  if (info.longRunning && info.type != nullptr) {
    running = &longRunning_.with({info.reportedVerb, info.group, info.version, info.resource,
                                  info.subresource, info.scope, component});
    if (info.verb == "watch")
      watcher = &watchers_.with({info.group, info.version, info.type->kind});
  } else if (!info.longRunning) {
    running = &inflight_.with({info.mutating ? "mutating" : "readOnly"});
  }
  if (running) running->inc();
  if (watcher) watcher->inc();

  // A resource outside the catalogue counts once something served it to an authenticated
  // caller (a custom resource); made-up paths answer 404, or 401 to anonymous callers.
  bool resourceKnown = info.type != nullptr;
  bool isResource = info.isResourceRequest;
  metrics::LabelValues labels = {info.reportedVerb, info.dryRun, info.group, info.version,
                                 info.resource,     subresource, info.scope, component};
  auto done = [this, running, watcher, start, isResource, resourceKnown, nonResourceKnown, labels](
                  int code, bool anonymous) mutable {
    if (running) running->dec();
    if (watcher) watcher->dec();
    bool record = isResource ? resourceKnown || (!anonymous && code != 404) : nonResourceKnown;
    if (!record) return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    durations_.with(labels).observe(seconds);
    labels.push_back(std::to_string(code));
    requests_.with(std::move(labels)).inc();
  };
  StatusRecorder recorder(writer, request, done);
  try {
    next(request, recorder);
  } catch (...) {
    // The server answers 500; the request is not recorded (unless its stream was detached: that
    // stream records it when it ends).
    if (!recorder.detached()) {
      if (running) running->dec();
      if (watcher) watcher->dec();
    }
    throw;
  }
  if (!recorder.detached()) done(recorder.status(), request.user.anonymous());
}

}  // namespace berth::apiserver
