#include "store/encryption/encrypting_store.h"

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>

#include "core/resources.h"

namespace berth::store::encryption {

ResourceOfKey resourceOfKeyFromCatalogue() {
  struct Catalogue {
    std::mutex mu;
    uint64_t generation = ~uint64_t{0};
    std::map<std::string, std::string, std::less<>> byPrefix;  // storage prefix → resource
  };
  auto cat = std::make_shared<Catalogue>();
  return [cat](std::string_view key) -> std::string {
    std::lock_guard lock(cat->mu);
    if (uint64_t g = core::catalogueGeneration(); g != cat->generation) {
      cat->byPrefix.clear();
      for (const auto& rt : core::allResources()) {
        if (rt.storagePrefix.empty() || rt.virtualResource) continue;
        const auto* srt = core::storageResource(rt);
        cat->byPrefix[rt.storagePrefix] = (srt ? *srt : rt).qualifiedResource();
      }
      cat->generation = g;
    }
    // Prefixes end in "/" and none is a prefix of another's segment, so the greatest prefix
    // not above the key is the only candidate.
    auto it = cat->byPrefix.upper_bound(key);
    if (it == cat->byPrefix.begin()) return "";
    --it;
    return key.starts_with(it->first) ? it->second : "";
  };
}

EncryptingStore::EncryptingStore(std::unique_ptr<Interface> inner, Config config,
                                 ResourceOfKey resourceOf)
    : inner_(std::move(inner)), config_(std::move(config)), resourceOf_(std::move(resourceOf)) {}

const Rule* EncryptingStore::ruleFor(std::string_view key) const {
  std::string resource = resourceOf_(key);
  if (resource.empty()) return nullptr;
  return config_.ruleFor(resource);
}

Result<std::string> EncryptingStore::encrypt(std::string_view key, std::string_view value) const {
  const Rule* rule = ruleFor(key);
  if (!rule) return std::string(value);
  return rule->providers.front()->encrypt(value);
}

Status EncryptingStore::decrypt(KeyValue& kv) const {
  if (kv.value.empty()) return {};
  const Rule* rule = ruleFor(kv.key);
  if (!rule) {
    // A resource no rule covers is stored as is; one that was covered before (and written
    // encrypted) cannot be read without its key.
    if (std::string_view(kv.value).starts_with(kEncryptedPrefix))
      return Status::internal("no encryption provider configured for " + kv.key +
                              ", which was stored encrypted");
    return {};
  }
  for (const auto& p : rule->providers) {
    if (!p->matches(kv.value)) continue;
    auto plain = p->decrypt(kv.value);
    if (!plain.ok()) return plain.status();
    kv.value = std::move(*plain);
    kv.stale = p != rule->providers.front();
    return {};
  }
  return Status::internal("no matching prefix found to decrypt " + kv.key +
                          " (its key is not in the encryption provider config)");
}

Result<KeyValue> EncryptingStore::get(std::string_view key) {
  auto kv = inner_->get(key);
  if (!kv.ok()) return kv;
  if (auto st = decrypt(*kv); !st.ok()) return st;
  return kv;
}

Result<ListResult> EncryptingStore::list(const ListOptions& options) {
  auto r = inner_->list(options);
  if (!r.ok()) return r;
  for (auto& kv : r->items) {
    if (auto st = decrypt(kv); !st.ok()) return st;
  }
  return r;
}

Result<int64_t> EncryptingStore::create(std::string_view key, std::string_view value) {
  auto sealed = encrypt(key, value);
  if (!sealed.ok()) return sealed.status();
  return inner_->create(key, *sealed);
}

Result<int64_t> EncryptingStore::update(std::string_view key, std::string_view value,
                                        int64_t expectedModRevision) {
  auto sealed = encrypt(key, value);
  if (!sealed.ok()) return sealed.status();
  return inner_->update(key, *sealed, expectedModRevision);
}

Result<KeyValue> EncryptingStore::remove(std::string_view key, int64_t expectedModRevision) {
  auto kv = inner_->remove(key, expectedModRevision);
  if (!kv.ok()) return kv;
  (void)decrypt(*kv);  // deleted either way; an unreadable old value stays as it was
  return kv;
}

Result<std::unique_ptr<Watch>> EncryptingStore::watch(std::string_view prefix,
                                                      int64_t afterRevision,
                                                      WatchCallback callback) {
  auto reported = std::make_shared<std::atomic<bool>>(false);
  return inner_->watch(
      prefix, afterRevision, [this, callback, reported](const Event& e) {
        Event out = e;
        Status st = decrypt(out.kv);
        if (st.ok() && !out.prevKv.key.empty()) st = decrypt(out.prevKv);
        if (!st.ok() && !reported->exchange(true))
          std::cerr << "berth: encryption: " << st.message() << "\n";
        callback(out);
      });
}

}  // namespace berth::store::encryption
