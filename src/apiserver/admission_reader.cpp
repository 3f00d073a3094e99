#include "apiserver/admission_reader.h"

#include <boost/json/parse.hpp>

#include "apiserver/registry.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

constexpr size_t kMaxParsed = 8192;

}  // namespace

admission::ObjectRef CacheObjectReader::parsed(const ObjectPtr& obj) const {
  {
    std::lock_guard lock(mu_);
    auto it = parsed_.find(obj->key);
    if (it != parsed_.end() && it->second.first == obj->resourceVersion) return it->second.second;
  }
  boost::system::error_code ec;
  auto v = json::parse(obj->json, ec);
  if (ec || !v.is_object()) return nullptr;
  auto ref = std::make_shared<const json::object>(std::move(v.as_object()));
  std::lock_guard lock(mu_);
  if (parsed_.size() >= kMaxParsed) parsed_.clear();
  parsed_[obj->key] = {obj->resourceVersion, ref};
  return ref;
}

admission::ObjectRef CacheObjectReader::get(const core::ResourceType& rt, const std::string& ns,
                                            const std::string& name) const {
  auto* c = cache_.forType(rt);
  if (!c) return nullptr;
  std::string key = storageKey(rt, ns, name);
  auto obj = c->get(key);
  if (!obj) {
    cache_.waitUntilFresh(std::chrono::seconds(2));
    obj = c->get(key);
  }
  if (!obj) return nullptr;
  return parsed(obj);
}

std::vector<admission::ObjectRef> CacheObjectReader::list(const core::ResourceType& rt,
                                                          const std::string& ns) const {
  std::vector<admission::ObjectRef> out;
  auto* c = cache_.forType(rt);
  if (!c) return out;
  std::string prefix = rt.storagePrefix;
  if (rt.namespaced && !ns.empty()) prefix += ns + "/";
  int64_t revision = 0;
  for (const auto& o : c->list(prefix, &revision)) {
    if (auto p = parsed(o)) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace berth::apiserver
