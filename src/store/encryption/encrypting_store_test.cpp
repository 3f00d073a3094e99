#include "store/encryption/encrypting_store.h"

#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "store/memory/memory_store.h"

namespace berth::store::encryption {
namespace {

std::string key64(char fill, size_t n = 32) { return core::base64Encode(std::string(n, fill)); }

std::string configWith(const std::string& providers) {
  return "apiVersion: apiserver.config.k8s.io/v1\n"
         "kind: EncryptionConfiguration\n"
         "resources:\n"
         "- resources: [secrets]\n"
         "  providers:\n" +
         providers;
}

ResourceOfKey secretsOnly() {
  return [](std::string_view key) -> std::string {
    return key.starts_with("/registry/secrets/") ? "secrets" : "";
  };
}

struct Fixture {
  MemoryStore* raw = nullptr;
  std::unique_ptr<EncryptingStore> store;
};

Fixture make(const std::string& providers, std::unique_ptr<MemoryStore> inner = nullptr) {
  auto cfg = parseConfig(configWith(providers));
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  Fixture f;
  if (!inner) inner = std::make_unique<MemoryStore>();
  f.raw = inner.get();
  f.store = std::make_unique<EncryptingStore>(std::move(inner), std::move(*cfg), secretsOnly());
  return f;
}

const char* kValue = R"({"kind":"Secret","data":{"password":"c2VjcmV0LXZhbHVl"}})";

class ProviderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ProviderTest, EncryptsSecretsAndReadsThemBack) {
  std::string type = GetParam();
  auto f = make("  - " + type + ":\n      keys:\n      - name: k1\n        secret: " + key64('a') +
                "\n");
  ASSERT_TRUE(f.store->create("/registry/secrets/default/s", kValue).ok());
  ASSERT_TRUE(f.store->create("/registry/configmaps/default/c", kValue).ok());
  auto stored = f.raw->get("/registry/secrets/default/s");
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->value.starts_with("k8s:enc:" + type + ":v1:k1:")) << stored->value;
  EXPECT_EQ(stored->value.find("c2VjcmV0LXZhbHVl"), std::string::npos);
  EXPECT_EQ(f.raw->get("/registry/configmaps/default/c")->value, kValue);  // not configured
  EXPECT_EQ(f.store->get("/registry/secrets/default/s")->value, kValue);
  auto listed = f.store->list({.prefix = "/registry/secrets/"});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].value, kValue);
  // Two writes of the same value differ (fresh nonce/IV each time).
  ASSERT_TRUE(f.store->update("/registry/secrets/default/s", kValue, 0).ok());
  EXPECT_NE(f.raw->get("/registry/secrets/default/s")->value, stored->value);
  // A flipped ciphertext byte is refused, not returned as garbage.
  std::string tampered = f.raw->get("/registry/secrets/default/s")->value;
  tampered[tampered.size() - 3] ^= 1;
  ASSERT_TRUE(f.raw->update("/registry/secrets/default/s", tampered, 0).ok());
  if (type != "aescbc") EXPECT_FALSE(f.store->get("/registry/secrets/default/s").ok());
}

INSTANTIATE_TEST_SUITE_P(All, ProviderTest, ::testing::Values("aesgcm", "aescbc", "secretbox"));

TEST(EncryptingStore, WatchEventsAreDecrypted) {
  auto f = make("  - aesgcm:\n      keys:\n      - name: k1\n        secret: " + key64('b') + "\n");
  std::mutex mu;
  std::vector<Event> events;
  auto w = f.store->watch("/registry/secrets/", 0, [&](const Event& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  });
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(f.store->create("/registry/secrets/ns/a", kValue).ok());
  ASSERT_TRUE(f.store->update("/registry/secrets/ns/a", "{\"v\":2}", 0).ok());
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (events.size() >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.value, kValue);
  EXPECT_EQ(events[1].kv.value, "{\"v\":2}");
  EXPECT_EQ(events[1].prevKv.value, kValue);
}

TEST(EncryptingStore, RotationReadsOldKeyAndWritesWithNew) {
  std::string oldKey = "  - aescbc:\n      keys:\n      - name: old\n        secret: " + key64('o') + "\n";
  std::string newKey = "  - aesgcm:\n      keys:\n      - name: new\n        secret: " + key64('n') + "\n";
  auto f1 = make(oldKey + "  - identity: {}\n");
  ASSERT_TRUE(f1.raw->create("/registry/secrets/ns/plain", kValue).ok());  // from before
  ASSERT_TRUE(f1.store->create("/registry/secrets/ns/enc", kValue).ok());
  EXPECT_EQ(f1.store->get("/registry/secrets/ns/plain")->value, kValue);
  EXPECT_TRUE(f1.raw->get("/registry/secrets/ns/enc")->value.starts_with("k8s:enc:aescbc:v1:old:"));

  // The new key first, the old one and identity still listed: everything reads, and a rewrite
  // (what `kubectl replace` does) stores it under the new key.
  auto f2 = make(newKey + oldKey + "  - identity: {}\n");
  for (const char* k : {"/registry/secrets/ns/plain", "/registry/secrets/ns/enc"}) {
    ASSERT_TRUE(f2.raw->create(k, f1.raw->get(k)->value).ok());
    auto v = f2.store->get(k);
    ASSERT_TRUE(v.ok()) << k;
    EXPECT_EQ(v->value, kValue);
    EXPECT_TRUE(v->stale) << k << ": read with a key that no longer writes";
    ASSERT_TRUE(f2.store->update(k, v->value, 0).ok());
    EXPECT_TRUE(f2.raw->get(k)->value.starts_with("k8s:enc:aesgcm:v1:new:")) << k;
  }
  // After the rewrite the old key can go.
  auto f3 = make(newKey);
  for (const char* k : {"/registry/secrets/ns/plain", "/registry/secrets/ns/enc"}) {
    ASSERT_TRUE(f3.raw->create(k, f2.raw->get(k)->value).ok());
    EXPECT_EQ(f3.store->get(k)->value, kValue);
    EXPECT_FALSE(f3.store->get(k)->stale);
  }
}

TEST(EncryptingStore, WithoutTheKeyAnEncryptedValueIsAnError) {
  auto f = make("  - secretbox:\n      keys:\n      - name: k1\n        secret: " + key64('c') + "\n");
  ASSERT_TRUE(f.store->create("/registry/secrets/ns/a", kValue).ok());
  std::string sealed = f.raw->get("/registry/secrets/ns/a")->value;
  auto other = make("  - secretbox:\n      keys:\n      - name: k2\n        secret: " + key64('d') +
                    "\n");
  ASSERT_TRUE(other.raw->create("/registry/secrets/ns/a", sealed).ok());
  auto got = other.store->get("/registry/secrets/ns/a");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("no matching prefix"), std::string::npos);
  // Identity alone cannot read encrypted values either.
  auto plain = make("  - identity: {}\n");
  ASSERT_TRUE(plain.raw->create("/registry/secrets/ns/a", sealed).ok());
  EXPECT_FALSE(plain.store->get("/registry/secrets/ns/a").ok());
}

TEST(EncryptionConfig, RejectsBadConfigurationsWithReasons) {
  EXPECT_FALSE(parseConfig("kind: Nope").ok());
  EXPECT_FALSE(parseConfig("{{{").ok());
  auto shortKey = parseConfig(configWith("  - aescbc:\n      keys:\n      - name: k\n        secret: " +
                                         key64('a', 16) + "\n"));
  ASSERT_FALSE(shortKey.ok());
  EXPECT_NE(shortKey.status().message().find("32 bytes"), std::string::npos)
      << shortKey.status().message();
  EXPECT_FALSE(parseConfig(configWith("  - kms:\n      name: x\n")).ok());
  EXPECT_FALSE(parseConfig(configWith("  - aesgcm:\n      keys: []\n")).ok());
  EXPECT_FALSE(
      parseConfig(configWith("  - aesgcm:\n      keys:\n      - name: k\n        secret: '!!'\n"))
          .ok());
}

TEST(EncryptionConfig, MostSpecificRuleWins) {
  auto cfg = parseConfig(
      "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
      "- resources: ['*.*']\n  providers: [{identity: {}}]\n"
      "- resources: ['*.apps']\n  providers: [{identity: {}}]\n"
      "- resources: [secrets]\n  providers: [{identity: {}}]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->ruleFor("secrets"), &cfg->rules[2]);
  EXPECT_EQ(cfg->ruleFor("deployments.apps"), &cfg->rules[1]);
  EXPECT_EQ(cfg->ruleFor("configmaps"), &cfg->rules[0]);
}

TEST(EncryptionConfig, SeveralKeysInOneProviderBecomeOneProviderEach) {
  auto cfg = parseConfig(configWith("  - aesgcm:\n      keys:\n      - name: a\n        secret: " +
                                    key64('a') + "\n      - name: b\n        secret: " +
                                    key64('b') + "\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  ASSERT_EQ(cfg->rules[0].providers.size(), 2u);
  auto sealed = cfg->rules[0].providers[1]->encrypt("x");
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(sealed->starts_with("k8s:enc:aesgcm:v1:b:"));
}

// Random and mutated stored values never crash a provider: they decrypt or fail.
TEST(EncryptingStore, GarbageValuesFailCleanly) {
  std::vector<std::shared_ptr<const Provider>> providers;
  for (auto* make : {&makeAesGcm, &makeAesCbc, &makeSecretbox}) {
    auto p = (*make)(Key{"k", std::string(32, 'z')});
    ASSERT_TRUE(p.ok());
    providers.push_back(std::move(*p));
  }
  std::mt19937 rng(7);
  for (const auto& p : providers) {
    std::string good = *p->encrypt("hello world");
    for (int i = 0; i < 2000; ++i) {
      std::string v = good;
      switch (i % 3) {
        case 0:
          v.resize(rng() % (v.size() + 1));
          break;
        case 1:
          v[rng() % v.size()] = static_cast<char>(rng());
          break;
        default:
          v += std::string(rng() % 40, static_cast<char>(rng()));
      }
      auto r = p->decrypt(v);
      if (r.ok() && v != good) EXPECT_NE(*r, "hello world") << p->type();
    }
  }
}

}  // namespace
}  // namespace berth::store::encryption
