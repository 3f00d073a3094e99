#include "apiserver/zero_value_migration.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

TEST(ZeroValueMigration, RewritesOldObjectsOnce) {
  auto store = std::make_unique<store::MemoryStore>();
  const std::string key = "/registry/daemonsets.apps/default/ds";
  ASSERT_TRUE(store
                  ->create(key, R"({"apiVersion":"apps/v1","kind":"DaemonSet",)"
                                R"("metadata":{"name":"ds","namespace":"default"}})")
                  .ok());
  const std::string cm = R"({"apiVersion":"v1","kind":"ConfigMap",)"
                         R"("metadata":{"name":"c","creationTimestamp":"2024-01-02T03:04:05Z"}})";
  ASSERT_TRUE(store->create("/registry/configmaps/default/c", cm).ok());
  auto n = migrateGoZeroValues(*store);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);  // the ConfigMap has no zero fields to add
  auto ds = store->get(key);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(json::parse(ds->value).at("status").at("numberReady"), json::value(0));
  EXPECT_EQ(store->get("/registry/configmaps/default/c")->value, cm);
  // Later starts skip the pass: an object stored the old way stays as it is.
  ASSERT_TRUE(store
                  ->create("/registry/daemonsets.apps/default/ds2",
                           R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{}})")
                  .ok());
  EXPECT_EQ(*migrateGoZeroValues(*store), 0);
}

}  // namespace
}  // namespace berth::apiserver
