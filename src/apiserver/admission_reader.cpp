#include "apiserver/admission_reader.h"

#include <boost/json/parse.hpp>

#include "apiserver/registry.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

std::optional<json::object> parse(const CachedObject& o) {
  boost::system::error_code ec;
  auto v = json::parse(o.json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

std::optional<json::object> CacheObjectReader::get(const core::ResourceType& rt,
                                                   const std::string& ns,
                                                   const std::string& name) const {
  auto* c = cache_.forType(rt);
  if (!c) return std::nullopt;
  std::string key = storageKey(rt, ns, name);
  auto obj = c->get(key);
  if (!obj) {
    cache_.waitUntilFresh(std::chrono::seconds(2));
    obj = c->get(key);
  }
  if (!obj) return std::nullopt;
  return parse(*obj);
}

std::vector<json::object> CacheObjectReader::list(const core::ResourceType& rt,
                                                  const std::string& ns) const {
  std::vector<json::object> out;
  auto* c = cache_.forType(rt);
  if (!c) return out;
  std::string prefix = rt.storagePrefix;
  if (rt.namespaced && !ns.empty()) prefix += ns + "/";
  int64_t revision = 0;
  for (const auto& o : c->list(prefix, &revision)) {
    if (auto parsed = parse(*o)) out.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace berth::apiserver
