// A write encoded once (prepared_write.h) must be exactly what decoding its stored bytes gives:
// the cached JSON, labels and fields, and the reply's bytes.
#include "apiserver/prepared_write.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/registry.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

const core::ResourceType& type(const char* group, const char* version, const char* plural) {
  const core::ResourceType* rt = core::findResource(group, version, plural);
  EXPECT_NE(rt, nullptr);
  return *rt;
}

// Objects as the registry stores them (no resourceVersion), with what a serializer may trip on:
// escapes, non-ASCII text, numbers of every JSON kind, metadata neither first nor last, empty.
const char* const kObjects[] = {
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default",)"
    R"("labels":{"app":"web","tier":"a\"b\\c\u00e9"},"annotations":{"x":"line\nbreak\t\u0001"}},)"
    R"("spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}],)"
    R"("terminationGracePeriodSeconds":30,"priority":-5},"status":{"phase":"Running",)"
    R"("podIP":"10.0.0.1"}})",
    R"({"kind":"ConfigMap","data":{"k":"v","big":"\u2603 snow"},"metadata":{"name":"cm",)"
    R"("namespace":"ns"},"apiVersion":"v1","binaryData":{}})",
    R"({"apiVersion":"v1","kind":"Pod","spec":{"overhead":1.5,"n":18446744073709551615,)"
    R"("m":-9223372036854775808,"e":1e300,"z":0,"t":true,"f":false,"nil":null},)"
    R"("metadata":{"name":"q","namespace":"default"}})",
    R"({"apiVersion":"v1","kind":"Pod","metadata":{}})",
};

TEST(PreparedWriteTest, MatchesDecodingTheStoredBytes) {
  const auto& pods = type("", "v1", "pods");
  for (const char* text : kObjects) {
    SCOPED_TRACE(text);
    json::object obj = json::parse(text).as_object();
    auto w = prepareWrite(pods, "/registry/pods/default/x", obj);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->value, json::serialize(obj));
    store::KeyValue kv{"/registry/pods/default/x", w->value, 7, 42};
    auto decoded = decodeStoredObject(pods, kv, 42);
    EXPECT_EQ(storedJsonAt(*w, 42), decoded->json);
    EXPECT_EQ(w->object.key, decoded->key);
    EXPECT_EQ(w->object.namespace_, decoded->namespace_);
    EXPECT_EQ(w->object.name, decoded->name);
    EXPECT_EQ(w->object.labels, decoded->labels);
    EXPECT_EQ(w->object.fields, decoded->fields);
  }
}

TEST(PreparedWriteTest, DeclinesWhatItCannotSplice) {
  const auto& pods = type("", "v1", "pods");
  // A resourceVersion left in metadata is replaced in place by decoding, not appended.
  EXPECT_EQ(
      prepareWrite(pods, "k", json::parse(R"({"metadata":{"resourceVersion":"3"}})").as_object()),
      nullptr);
  EXPECT_EQ(prepareWrite(pods, "k", json::parse(R"({"metadata":[]})").as_object()), nullptr);
  EXPECT_EQ(prepareWrite(pods, "k", json::parse(R"({"kind":"Pod"})").as_object()), nullptr);
}

store::Event putEvent(const std::string& key, const std::string& value, int64_t rev) {
  store::Event e;
  e.kv = {key, value, rev, rev};
  return e;
}

TEST(PreparedWriteTest, CacheTakesTheAnnouncedWriteOnly) {
  const auto& pods = type("", "v1", "pods");
  ResourceCache cache(pods);
  json::object obj = json::parse(kObjects[0]).as_object();
  const std::string key = "/registry/pods/default/p";
  auto w = prepareWrite(pods, key, obj);
  ASSERT_NE(w, nullptr);
  cache.expectWrite(w);
  cache.apply(putEvent(key, w->value, 5));
  cache.settleWrite(key, w, 5);
  auto got = cache.get(key);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->json, storedJsonAt(*w, 5));
  EXPECT_EQ(got->resourceVersion, 5);
  EXPECT_EQ(got->field("spec.nodeName"), "n1");
  EXPECT_TRUE(w->object.labels.empty());  // taken: moved into the cache, not copied

  // Bytes the announcement does not carry (another writer, a transforming store) are decoded.
  auto other = prepareWrite(pods, key, obj);
  cache.expectWrite(other);
  json::object changed = obj;
  changed["metadata"].as_object()["labels"].as_object()["app"] = "db";
  std::string changedValue = json::serialize(changed);
  cache.settleWrite(key, other, 6);
  cache.apply(putEvent(key, changedValue, 6));
  got = cache.get(key);
  EXPECT_EQ(got->json, decodeStoredObject(pods, {key, changedValue, 5, 6}, 6)->json);
  EXPECT_EQ(got->labels.at("app"), "db");
  // ...and the announcement is gone: the same bytes written again later are decoded too.
  EXPECT_FALSE(other->object.labels.empty());
  cache.apply(putEvent(key, other->value, 7));
  EXPECT_FALSE(other->object.labels.empty());
  EXPECT_EQ(cache.get(key)->json, storedJsonAt(*other, 7));

  // A failed write is forgotten.
  auto failed = prepareWrite(pods, key, obj);
  cache.expectWrite(failed);
  cache.settleWrite(key, failed, 0);
  cache.apply(putEvent(key, failed->value, 8));
  EXPECT_FALSE(failed->object.labels.empty());
}

// Through the registry: what the watch cache serves and the reply's bytes are the stored object
// encoded once, and equal to encoding the returned object.
TEST(PreparedWriteTest, RegistryRepliesWithTheCachedBytes) {
  store::MemoryStore store;
  CacheSet cache(store);
  ASSERT_TRUE(cache.start().ok());
  Registry registry(store, cache);
  ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
  const auto& pods = type("", "v1", "pods");
  std::string stored;
  WriteOptions wo;
  wo.fieldManager = "test";
  wo.storedJson = &stored;
  auto created = registry.create(
      pods, "default",
      json::parse(R"({"metadata":{"name":"p","labels":{"a":"b"}},"spec":{"containers":)"
                  R"([{"name":"c","image":"busybox"}]}})")
          .as_object(),
      wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(stored, json::serialize(*created));
  ASSERT_TRUE(cache.waitUntilFresh(std::chrono::seconds(5)));
  auto got = registry.get(pods, "default", "p");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->json, stored);

  // An update, and a no-op update (no write: no bytes given, the reply is encoded as before).
  json::object next = *created;
  next["metadata"].as_object()["labels"].as_object()["a"] = "c";
  stored.clear();
  auto updated = registry.update(pods, "default", "p", next, wo);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(stored, json::serialize(*updated));
  ASSERT_TRUE(cache.waitUntilFresh(std::chrono::seconds(5)));
  EXPECT_EQ((*registry.get(pods, "default", "p"))->json, stored);
  stored.clear();
  ASSERT_TRUE(registry.update(pods, "default", "p", *updated, wo).ok());
  EXPECT_TRUE(stored.empty());

  // A version served by conversion gets no stored bytes: its reply is not the stored object.
  const auto& hpaV1 = type("autoscaling", "v1", "horizontalpodautoscalers");
  ASSERT_FALSE(hpaV1.isStorageVersion());
  stored.clear();
  auto hpa = registry.create(
      hpaV1, "default",
      json::parse(R"({"metadata":{"name":"h"},"spec":{"maxReplicas":3,"scaleTargetRef":)"
                  R"({"apiVersion":"apps/v1","kind":"Deployment","name":"d"}}})")
          .as_object(),
      wo);
  ASSERT_TRUE(hpa.ok()) << hpa.status().message();
  EXPECT_TRUE(stored.empty());
  registry.stop();
  cache.stop();
}

}  // namespace
}  // namespace berth::apiserver
