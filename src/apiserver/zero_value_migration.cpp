#include "apiserver/zero_value_migration.h"

#include <boost/json.hpp>

#include <set>

#include "apiserver/protobuf/zero_values.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

constexpr int64_t kPage = 500;

// Rewrites one stored value if it lacks zero fields; true when rewritten.
bool migrateOne(store::Interface& store, const store::KeyValue& kv) {
  boost::system::error_code ec;
  json::value v = json::parse(kv.value, ec);
  if (ec || !v.is_object()) return false;
  if (!protobuf::addGoZeroValues(v.as_object())) return false;
  std::string next = json::serialize(v);
  if (next == kv.value) return false;
  // A conflict means someone wrote the object meanwhile, through the registry, which fills.
  return store.update(kv.key, next, kv.modRevision).ok();
}

}  // namespace

core::Result<int64_t> migrateGoZeroValues(store::Interface& store) {
  if (store.get(kZeroValueMigrationKey).ok()) return int64_t(0);
  std::set<std::string> prefixes;
  for (const auto& rt : core::allResources()) {
    if (!rt.virtualResource && rt.isStorageVersion()) prefixes.insert(rt.storagePrefix);
  }
  int64_t rewritten = 0;
  for (const auto& prefix : prefixes) {
    store::ListOptions opts;
    opts.prefix = prefix;
    opts.limit = kPage;
    for (;;) {
      auto page = store.list(opts);
      if (!page.ok()) return page.status();
      for (const auto& kv : page->items) rewritten += migrateOne(store, kv) ? 1 : 0;
      if (!page->more || page->items.empty()) break;
      opts.startAfter = page->items.back().key;
    }
  }
  if (auto st = store.create(kZeroValueMigrationKey, "{}");
      !st.ok() && !st.status().isAlreadyExists())
    return st.status();
  return rewritten;
}

}  // namespace berth::apiserver
