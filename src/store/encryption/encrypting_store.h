#pragma once
// A store decorator that encrypts the values of configured resources on the way in and
// decrypts them on the way out (reads, lists, deletes and watch events alike), as
// kube-apiserver's value transformers do in front of etcd. Keys, revisions and everything the
// inner store does stay as they are; only values change.
//
// Rotation: put the new key first (it encrypts new writes), keep the old one listed (it still
// reads), rewrite every object (`kubectl get secrets -A -o json | kubectl replace -f -`), then
// drop the old key.
//
// A value no listed provider can read is an error on get/list/remove; in a watch event it is
// passed on undecrypted and reported once on stderr (the watch has no way to fail one event).
//
// Thread-safety: as the inner store.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/encryption/encryption_config.h"
#include "store/interface.h"

namespace berth::store::encryption {

// Maps a storage key to the qualified resource it belongs to ("secrets", "deployments.apps");
// empty for keys of no resource.
using ResourceOfKey = std::function<std::string(std::string_view key)>;

// The resource of a key from the served resources' storage prefixes (core::allResources),
// re-read when the catalogue changes (CRDs).
ResourceOfKey resourceOfKeyFromCatalogue();

class EncryptingStore : public Interface {
 public:
  EncryptingStore(std::unique_ptr<Interface> inner, Config config, ResourceOfKey resourceOf);

  Result<KeyValue> get(std::string_view key) override;
  Result<ListResult> list(const ListOptions& options) override;
  Result<int64_t> create(std::string_view key, std::string_view value) override;
  Result<int64_t> update(std::string_view key, std::string_view value,
                         int64_t expectedModRevision) override;
  Result<KeyValue> remove(std::string_view key, int64_t expectedModRevision) override;
  Result<std::unique_ptr<Watch>> watch(std::string_view prefix, int64_t afterRevision,
                                       WatchCallback callback) override;
  int64_t currentRevision() override { return inner_->currentRevision(); }
  int64_t compactedRevision() override { return inner_->compactedRevision(); }
  Status compact(int64_t revision) override { return inner_->compact(revision); }
  void close() override { inner_->close(); }

  Interface& inner() { return *inner_; }

 private:
  const Rule* ruleFor(std::string_view key) const;
  Result<std::string> encrypt(std::string_view key, std::string_view value) const;
  Status decrypt(KeyValue& kv) const;

  std::unique_ptr<Interface> inner_;
  Config config_;
  ResourceOfKey resourceOf_;
};

}  // namespace berth::store::encryption
