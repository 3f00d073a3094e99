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
#include "apiserver/webhook/client.h"
#include "core/json_access.h"

namespace berth::apiserver::admission {

namespace {

namespace json = boost::json;

int intField(const json::object& o, std::string_view key, int fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<int>() : fallback;
}

class WebhookPlugin : public Plugin {
 public:
  explicit WebhookPlugin(std::shared_ptr<WebhookSource> source)
      : source_(std::move(source)),
        client_([source = source_](const std::string& ns, const std::string& name, int port) {
          return source->serviceEndpoint(ns, name, port);
        }) {}
  std::string_view name() const override { return "AdmissionWebhook"; }

  core::Status admit(Attributes& a) override {
    if (exempt(*a.resource)) return {};
    auto configs = source_->configurations(true);
    if (configs->empty()) return {};
    return run(a, true, *configs);
  }
  core::Status validate(const Attributes& a) override {
    if (exempt(*a.resource)) return {};
    auto configs = source_->configurations(false);
    if (configs->empty()) return {};
    Attributes copy = a;  // validating webhooks never change the object
    return run(copy, false, *configs);
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

  // Webhook configurations themselves are never sent to webhooks.
  static bool exempt(const core::ResourceType& rt) {
    return rt.group == "admissionregistration.k8s.io" &&
           (rt.plural == "mutatingwebhookconfigurations" ||
            rt.plural == "validatingwebhookconfigurations");
  }

  core::Status run(Attributes& a, bool mutating, const std::vector<json::object>& configs) {
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
    std::string uid = webhook::newRequestUid();
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

  core::Result<ReviewOutcome> call(const Attributes& a, const json::object& hook,
                                   const std::string& uid, const std::string& name) {
    const json::object* cc = core::objectField(hook, "clientConfig");
    if (!cc) return core::Status::badRequest("webhook has no clientConfig");
    auto* versions = hook.if_contains("admissionReviewVersions");
    bool v1 = false;
    if (versions && versions->is_array()) {
      for (const auto& v : versions->as_array())
        v1 = v1 || (v.is_string() && v.as_string() == "v1");
    }
    if (!v1) return core::Status::badRequest("webhook does not accept admission.k8s.io/v1");
    int timeoutSeconds = std::clamp(intField(hook, "timeoutSeconds", 10), 1, 30);
    std::string body = json::serialize(buildAdmissionReview(a, uid));
    auto reply = client_.post(*cc, body, std::chrono::seconds(timeoutSeconds),
                              "timeout=" + std::to_string(timeoutSeconds) + "s");
    if (!reply.ok()) {
      // Transport failures are wrapped as upstream's "failed to call webhook: Post ...".
      if (reply.status().code() == 500)
        return core::Status::internal("failed to call webhook: " + reply.status().message());
      return reply.status();
    }
    if (reply->status < 200 || reply->status >= 300) {
      return core::Status::internal("failed to call webhook: the server responded with status " +
                                    std::to_string(reply->status));
    }
    auto outcome = parseAdmissionReview(reply->body, uid, name);
    if (!outcome.ok()) return outcome.status();
    return outcome;
  }

  std::shared_ptr<WebhookSource> source_;
  webhook::Client client_;
};

}  // namespace

std::unique_ptr<Plugin> newAdmissionWebhooks(std::shared_ptr<WebhookSource> source) {
  return std::make_unique<WebhookPlugin>(std::move(source));
}

}  // namespace berth::apiserver::admission
