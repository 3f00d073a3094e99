// DefaultTolerationSeconds (upstream plugin/pkg/admission/defaulttolerationseconds): a pod
// created without a NoExecute toleration for node.kubernetes.io/not-ready or .../unreachable
// gets one for 300 s, so the node lifecycle controller evicts its pods five minutes after their
// node goes away rather than at once.
#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

constexpr int64_t kDefaultTolerationSeconds = 300;
constexpr const char* kNotReady = "node.kubernetes.io/not-ready";
constexpr const char* kUnreachable = "node.kubernetes.io/unreachable";

class DefaultTolerationSeconds : public Plugin {
 public:
  std::string_view name() const override { return "DefaultTolerationSeconds"; }

  core::Status admit(Attributes& a) override {
    if (a.operation != Operation::kCreate || !isResource(a, "", "pods") || !a.object) return {};
    auto& spec = ensureObject(*a.object, "spec");
    bool notReady = false, unreachable = false;
    if (const auto* ts = arrayField(spec, "tolerations")) {
      for (const auto& tv : *ts) {
        if (!tv.is_object()) continue;
        std::string key = stringField(tv.as_object(), "key");
        std::string effect = stringField(tv.as_object(), "effect");
        // An empty key (with operator Exists) and an empty effect match every taint.
        if (!effect.empty() && effect != "NoExecute") continue;
        notReady = notReady || key.empty() || key == kNotReady;
        unreachable = unreachable || key.empty() || key == kUnreachable;
      }
    }
    auto add = [&](const char* key) {
      json::array& tolerations = ensureArray(spec, "tolerations");
      json::object t(tolerations.storage());
      t.reserve(4);
      t.emplace("key", key);
      t.emplace("operator", "Exists");
      t.emplace("effect", "NoExecute");
      t.emplace("tolerationSeconds", kDefaultTolerationSeconds);
      tolerations.push_back(std::move(t));
    };
    if (!notReady) add(kNotReady);
    if (!unreachable) add(kUnreachable);
    return {};
  }
};

}  // namespace

std::unique_ptr<Plugin> newDefaultTolerationSeconds() {
  return std::make_unique<DefaultTolerationSeconds>();
}

}  // namespace berth::apiserver::admission
