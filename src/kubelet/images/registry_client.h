#pragma once
// Pulls images over the OCI distribution API into a ContentStore: resolves a reference through
// the registry's mirrors (registries.yaml), negotiates Docker v2 / OCI manifests and indexes,
// picks the platform, authenticates (Bearer token or Basic, with credentials from the pod or
// registries.yaml), and downloads the config and layer blobs it lacks, verifying every digest.
//
// Thread-safety: one RegistryClient may serve several pulls at once.
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/images/content_store.h"
#include "kubelet/images/image_service.h"
#include "kubelet/images/manifest.h"
#include "kubelet/images/reference.h"
#include "kubelet/images/registries_config.h"
#include "kubelet/images/registry_http.h"

namespace berth::kubelet::images {

class RegistryClient {
 public:
  RegistryClient(RegistriesConfig config, Platform platform);

  // The image record for `ref` with all its blobs in `store` (not yet in the index). Errors
  // carry the registry's own reason ("manifest unknown", "unauthorized", "digest mismatch", an
  // HTTP status or a transport error) in the message; each endpoint tried is named.
  core::Result<ImageRecord> pull(const Reference& ref, const std::vector<Credential>& credentials,
                                 ContentStore& store);

 private:
  struct Session;
  core::Result<ImageRecord> pullFrom(Session& session, const Reference& ref, ContentStore& store);
  core::Result<HttpReply> request(Session& session, const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  size_t maxBody,
                                  const std::function<bool(std::string_view)>& sink = nullptr);
  core::Status authorize(Session& session, const HttpReply& challenge);
  core::Result<std::string> fetchManifest(Session& session, const std::string& reference,
                                          std::string* contentType);
  core::Status fetchBlob(Session& session, const std::string& digest, ContentStore& store);

  RegistriesConfig config_;
  Platform platform_;
  RegistryHttp http_;
};

}  // namespace berth::kubelet::images
