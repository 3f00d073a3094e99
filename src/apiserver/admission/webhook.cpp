#include "apiserver/admission/webhook.h"

#include <boost/json/serialize.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "apiserver/admission/webhook_match_conditions.h"
#include "apiserver/admission/webhook_review.h"
#include "apiserver/admission/webhook_rules.h"
#include "apiserver/patch/patch.h"
#include "client/http_connection.h"
#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver::admission {

namespace {

namespace json = boost::json;

constexpr size_t kMaxResponseBytes = 3 * 1024 * 1024;

struct Endpoint {
  std::string host;
  int port = 443;
  std::string path = "/";
  std::string serverName;  // verified name when it differs from host
  std::string display;     // the URL for messages
};

// "https://host[:port][/path]" → endpoint; upstream requires https.
core::Result<Endpoint> parseUrl(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return core::Status::badRequest("webhook url must use https");
  std::string rest = url.substr(scheme.size());
  Endpoint e;
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) e.path = rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return core::Status::badRequest("bad webhook url host");
    e.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      e.port = std::atoi(hostport.c_str() + close + 2);
  } else {
    auto colon = hostport.rfind(':');
    e.host = hostport.substr(0, colon);
    if (colon != std::string::npos) e.port = std::atoi(hostport.c_str() + colon + 1);
  }
  if (e.host.empty() || e.port <= 0 || e.port > 65535) {
    return core::Status::badRequest("bad webhook url " + url);
  }
  return e;
}

int intField(const json::object& o, std::string_view key, int fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<int>() : fallback;
}

class WebhookPlugin : public Plugin {
 public:
  explicit WebhookPlugin(std::shared_ptr<WebhookSource> source) : source_(std::move(source)) {}
  std::string_view name() const override { return "AdmissionWebhook"; }

  core::Status admit(Attributes& a) override { return run(a, true); }
  core::Status validate(const Attributes& a) override {
    Attributes copy = a;  // validating webhooks never change the object
    return run(copy, false);
  }

 private:
  // Upstream's reinvocation bookkeeping (mutating/reinvocationcontext.go): webhooks with
  // reinvocationPolicy IfNeeded that ran, and those to call again because a later webhook
  // changed the object after them.
  struct Reinvocation {
    std::set<std::string> previouslyInvoked;
    std::set<std::string> toReinvoke;
    bool reinvoking = false;
  };

  core::Status run(Attributes& a, bool mutating) {
    const core::ResourceType& rt = *a.resource;
    if (rt.group == "admissionregistration.k8s.io" &&
        (rt.plural == "mutatingwebhookconfigurations" ||
         rt.plural == "validatingwebhookconfigurations"))
      return {};
    auto configs = source_->configurations(mutating);
    if (configs.empty()) return {};
    Reinvocation reinvocation;
    bool changed = false;
    if (auto st = round(a, mutating, configs, reinvocation, changed); !st.ok()) return st;
    // A webhook changed the object after an IfNeeded webhook saw it: call those once more, in
    // order (upstream reinvokes the whole mutating chain once; the in-tree plugins before this
    // one are not run again here).
    if (!mutating || !changed || reinvocation.toReinvoke.empty()) return {};
    reinvocation.reinvoking = true;
    return round(a, mutating, configs, reinvocation, changed);
  }

  core::Status round(Attributes& a, bool mutating, const std::vector<json::object>& configs,
                     Reinvocation& reinvocation, bool& changedAny) {
    const core::ResourceType& rt = *a.resource;
    RequestTarget target{a.operation, rt.group,      rt.version,
                         rt.plural,   a.subresource, rt.namespaced};
    std::optional<std::optional<core::Labels>> nsLabels;  // looked up once, when needed
    std::vector<const json::object*> validating;          // matched, called together below
    for (const auto& config : configs) {
      auto* hooks = config.if_contains("webhooks");
      if (!hooks || !hooks->is_array()) continue;
      const json::object* meta = core::objectField(config, "metadata");
      std::string configName = meta ? core::stringField(*meta, "name") : "";
      for (const auto& h : hooks->as_array()) {
        if (!h.is_object()) continue;
        const json::object& hook = h.as_object();
        std::string id = configName + "/" + core::stringField(hook, "name");
        if (reinvocation.reinvoking && !reinvocation.toReinvoke.count(id)) continue;
        if (!rulesMatch(hook, target)) continue;
        if (!nsLabels) {
          if (rt.group.empty() && rt.plural == "namespaces") {
            const json::object* o = a.object ? a.object : a.oldObject;
            nsLabels = o ? std::optional<core::Labels>(core::labelsOf(*o)) : std::nullopt;
          } else {
            nsLabels = a.ns.empty() ? std::nullopt : source_->namespaceLabels(a.ns);
          }
        }
        if (!namespaceSelectorMatches(hook, target, *nsLabels)) continue;
        if (!objectSelectorMatches(hook, a.object, a.oldObject)) continue;
        // The authorizer library's checks are asked for the requesting user.
        cel::AuthzCallback authz = [this, &a](const cel::AuthzCheck& c) {
          return source_->authorize(a.user, c);
        };
        auto conditions = evaluateMatchConditions(hook, a, &authz);
        if (!conditions.error.ok()) return conditions.error;
        if (!conditions.matches) continue;
        if (!mutating) {
          validating.push_back(&hook);
          continue;
        }
        bool changed = false;
        if (auto st = callOne(a, hook, mutating, changed); !st.ok()) return st;
        if (changed) {
          changedAny = true;
          reinvocation.toReinvoke.insert(reinvocation.previouslyInvoked.begin(),
                                         reinvocation.previouslyInvoked.end());
          reinvocation.previouslyInvoked.clear();
        }
        if (core::stringField(hook, "reinvocationPolicy") == "IfNeeded")
          reinvocation.previouslyInvoked.insert(id);
      }
    }
    if (!mutating) return callAll(a, validating);
    return {};
  }

  // Upstream's validating dispatcher: the matching webhooks (chosen above, in order, as
  // upstream's ShouldCallHook does) are called all at once; when several reject, the rejection
  // that arrived first is returned (upstream's error channel order), the others dropped.
  // Warnings are kept in webhook order. One thread per extra webhook: there are few webhooks,
  // and each call blocks on the network for most of its time.
  core::Status callAll(const Attributes& a, const std::vector<const json::object*>& hooks) {
    if (hooks.empty()) return {};
    std::vector<std::vector<std::string>> warnings(hooks.size());
    std::mutex mu;
    std::optional<core::Status> first;  // guarded by mu
    auto one = [&](size_t i) {
      Attributes mine = a;  // validating webhooks never change the object
      mine.warnings = &warnings[i];
      mine.auditAnnotations = nullptr;
      bool changed = false;
      core::Status st = callOne(mine, *hooks[i], false, changed);
      std::lock_guard lock(mu);
      if (!st.ok() && !first) first = std::move(st);
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < hooks.size(); ++i) {
      try {
        threads.emplace_back(one, i);
      } catch (const std::system_error&) {
        one(i);  // no thread to be had: call it here, still correct, only slower
      }
    }
    one(0);
    for (auto& t : threads) t.join();
    for (auto& list : warnings)
      for (auto& w : list) a.warn(std::move(w));
    return first ? *first : core::Status{};
  }

  core::Status callOne(Attributes& a, const json::object& hook, bool mutating, bool& changed) {
    std::string name = core::stringField(hook, "name");
    if (a.dryRun) {
      std::string effects = core::stringField(hook, "sideEffects");
      if (effects != "None" && effects != "NoneOnDryRun") {
        return core::Status::badRequest("admission webhook \"" + name +
                                        "\" does not support dry run");
      }
    }
    std::string uid = newRequestUid();
    auto outcome = call(a, hook, uid, name);
    if (!outcome.ok()) {
      if (core::stringField(hook, "failurePolicy") == "Ignore") return {};
      return core::Status::internal("Internal error occurred: failed calling webhook \"" + name +
                                    "\": " + outcome.status().message());
    }
    for (auto& w : outcome->warnings) a.warn(std::move(w));
    if (!outcome->allowed) return outcome->denial;
    if (mutating && outcome->patch && a.object) {
      auto patched = patch::applyJsonPatch(json::value(*a.object), *outcome->patch);
      if (!patched.ok() || !patched->is_object()) {
        std::string why = patched.ok() ? "the result is not an object" : patched.status().message();
        return core::Status::internal("Internal error occurred: admission webhook \"" + name +
                                      "\" returned a patch that cannot be applied: " + why);
      }
      changed = patched->as_object() != *a.object;
      *a.object = std::move(patched->as_object());
    }
    return {};
  }

  core::Result<Endpoint> endpointFor(const json::object& clientConfig) {
    std::string url = core::stringField(clientConfig, "url");
    if (!url.empty()) {
      auto e = parseUrl(url);
      if (e.ok()) e->display = url;
      return e;
    }
    const json::object* svc = core::objectField(clientConfig, "service");
    if (!svc) return core::Status::badRequest("webhook clientConfig has neither url nor service");
    std::string ns = core::stringField(*svc, "namespace"), name = core::stringField(*svc, "name");
    int port = intField(*svc, "port", 443);
    Endpoint e;
    std::string path = core::stringField(*svc, "path");
    if (!path.empty()) e.path = path;
    e.serverName = name + "." + ns + ".svc";
    e.display = "https://" + e.serverName + ":" + std::to_string(port) + e.path;
    auto addr = source_->serviceEndpoint(ns, name, port);
    if (!addr.ok()) return addr.status();
    e.host = addr->first;
    e.port = addr->second;
    return e;
  }

  core::Result<std::shared_ptr<client::TlsContext>> tlsFor(const std::string& caBundle) {
    std::lock_guard lock(mu_);
    if (auto it = tls_.find(caBundle); it != tls_.end()) return it->second;
    client::TlsConfig cfg;
    if (!caBundle.empty()) {
      auto pem = core::base64Decode(caBundle);
      if (!pem) return core::Status::badRequest("caBundle is not valid base64");
      cfg.caPem = *pem;
    }
    auto ctx = client::makeTlsContext(cfg);
    if (!ctx.ok()) return ctx.status();
    if (tls_.size() > 64) tls_.clear();  // configurations come and go; keep the cache small
    tls_[caBundle] = *ctx;
    return *ctx;
  }

  core::Result<ReviewOutcome> call(const Attributes& a, const json::object& hook,
                                   const std::string& uid, const std::string& name) {
    const json::object* cc = core::objectField(hook, "clientConfig");
    if (!cc) return core::Status::badRequest("webhook has no clientConfig");
    auto ep = endpointFor(*cc);
    if (!ep.ok()) return ep.status();
    auto* versions = hook.if_contains("admissionReviewVersions");
    bool v1 = false;
    if (versions && versions->is_array()) {
      for (const auto& v : versions->as_array())
        v1 = v1 || (v.is_string() && v.as_string() == "v1");
    }
    if (!v1) return core::Status::badRequest("webhook does not accept admission.k8s.io/v1");
    int timeoutSeconds = std::clamp(intField(hook, "timeoutSeconds", 10), 1, 30);
    auto timeout = std::chrono::milliseconds(timeoutSeconds * 1000);
    std::string target = ep->path + (ep->path.find('?') == std::string::npos ? "?" : "&") +
                         "timeout=" + std::to_string(timeoutSeconds) + "s";
    std::string url = ep->display + (ep->display.find('?') == std::string::npos ? "?" : "&") +
                      "timeout=" + std::to_string(timeoutSeconds) + "s";
    auto fail = [&](const core::Status& st) {
      return core::Status::internal("failed to call webhook: Post \"" + url +
                                    "\": " + st.message());
    };
    auto tls = tlsFor(core::stringField(*cc, "caBundle"));
    if (!tls.ok()) return fail(tls.status());
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto conn = client::HttpConnection::open(*tls, ep->host, ep->port, timeout, ep->serverName);
    if (!conn.ok()) return fail(conn.status());
    std::string body = json::serialize(buildAdmissionReview(a, uid));
    std::string hostHeader = ep->serverName.empty() ? ep->host : ep->serverName;
    std::string req = "POST " + target + " HTTP/1.1\r\nHost: " + hostHeader + ":" +
                      std::to_string(ep->port) +
                      "\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                      "User-Agent: berth-apiserver\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    if (auto st = (*conn)->send(req); !st.ok()) return fail(st);
    auto head = (*conn)->readHead();
    if (!head.ok()) return fail(head.status());
    std::string resp;
    bool tooBig = false;
    auto st = (*conn)->readBody(*head, [&](std::string_view piece) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      resp.append(piece);
      tooBig = resp.size() > kMaxResponseBytes;
      return !tooBig;
    });
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(core::Status::timeout("context deadline exceeded"));
    }
    if (tooBig) return fail(core::Status::internal("response too large"));
    if (!st.ok()) return fail(st);
    if (head->status < 200 || head->status >= 300) {
      return fail(core::Status::internal("the server responded with status " +
                                         std::to_string(head->status)));
    }
    auto outcome = parseAdmissionReview(resp, uid, name);
    if (!outcome.ok()) return outcome.status();
    return outcome;
  }

  std::shared_ptr<WebhookSource> source_;
  std::mutex mu_;                                                   // guards tls_
  std::map<std::string, std::shared_ptr<client::TlsContext>> tls_;  // by caBundle
};

}  // namespace

std::unique_ptr<Plugin> newAdmissionWebhooks(std::shared_ptr<WebhookSource> source) {
  return std::make_unique<WebhookPlugin>(std::move(source));
}

}  // namespace berth::apiserver::admission
