#pragma once
// Image references as docker normalises them (distribution/reference's ParseNormalizedNamed):
// "busybox" is docker.io/library/busybox:latest, "host:5000/a/b@sha256:..." keeps its registry
// and digest. Parsing is by hand (no regex) and total: any input gives a Reference or an
// InvalidImageName status, never a crash.
//
// Thread-safety: plain values and pure functions.
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::kubelet::images {

struct Reference {
  std::string domain;  // "docker.io", "127.0.0.1:5000", "localhost"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest" when neither tag nor digest was given; may be empty
  std::string digest;  // "sha256:<64 hex>" or empty

  std::string repository() const { return domain + "/" + path; }  // docker.io/library/busybox
  // The full normalised form: domain/path[:tag][@digest].
  std::string string() const;
  // domain/path:tag, or empty when there is no tag.
  std::string tagged() const { return tag.empty() ? std::string() : repository() + ":" + tag; }
  // domain/path@digest, or empty when there is no digest.
  std::string digested() const {
    return digest.empty() ? std::string() : repository() + "@" + digest;
  }
  // What the registry's manifest endpoint takes: the digest when pinned, else the tag.
  const std::string& manifestReference() const { return digest.empty() ? tag : digest; }
  bool operator==(const Reference&) const = default;
};

// Status reason "InvalidImageName" (400) on error, with the reason in the message.
core::Result<Reference> parseReference(std::string_view ref);

// "sha256:" followed by 64 lower-case hex digits: the only digest Berth verifies, and the only
// form allowed into paths built from digests.
bool isValidDigest(std::string_view digest);

}  // namespace berth::kubelet::images
