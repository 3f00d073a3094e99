#include "cel/admission_env.h"

#include <mutex>
#include <unordered_map>

namespace berth::cel {

namespace {

using K = Type::K;
using Fields = std::map<std::string, Type>;

Type object(std::string name, Fields fields) {
  return Type{K::kObject, std::move(name), std::make_shared<const Fields>(std::move(fields))};
}

Type requestType() {
  Type s = Type::of(K::kString);
  Type gvk = object("kubernetes.GroupVersionKind", {{"group", s}, {"version", s}, {"kind", s}});
  Type gvr =
      object("kubernetes.GroupVersionResource", {{"group", s}, {"version", s}, {"resource", s}});
  Type user = object(
      "kubernetes.UserInfo",
      {{"username", s}, {"uid", s}, {"groups", Type::of(K::kList)}, {"extra", Type::of(K::kMap)}});
  return object("kubernetes.AdmissionRequest", {{"kind", gvk},
                                                {"resource", gvr},
                                                {"subResource", s},
                                                {"requestKind", gvk},
                                                {"requestResource", gvr},
                                                {"requestSubResource", s},
                                                {"name", s},
                                                {"namespace", s},
                                                {"operation", s},
                                                {"userInfo", user},
                                                {"dryRun", Type::of(K::kBool)},
                                                {"options", Type::of(K::kDyn)},
                                                {"uid", s}});
}

}  // namespace

const Env& admissionEnv() {
  static const Env env = [] {
    Env e;
    e.variables["object"] = Type::of(K::kDyn);
    e.variables["oldObject"] = Type::of(K::kDyn);
    e.variables["request"] = requestType();
    e.variables["authorizer"] = authorizerType();
    return e;
  }();
  return env;
}

std::variant<std::shared_ptr<const Program>, std::string> compileMatchCondition(
    std::string_view expression) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const Program>> cache;
  std::string key(expression);
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto compiled = compile(expression, admissionEnv());
  if (auto* err = std::get_if<CompileError>(&compiled)) {
    return "compilation failed: " + err->message;
  }
  auto program = std::get<std::shared_ptr<const Program>>(compiled);
  if (program->outputType.k != K::kBool) return std::string("must evaluate to bool");
  std::lock_guard lock(mu);
  if (cache.size() >= 4096) cache.clear();  // configurations change rarely; bound the memory
  cache.emplace(std::move(key), program);
  return program;
}

}  // namespace berth::cel
