#include "kubelet/images/manifest.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::kubelet::images {
namespace {

std::string digest(char c) { return "sha256:" + std::string(64, c); }

std::string dockerManifest() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
  "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":")" +
         digest('a') + R"("},"layers":[
  {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":10,"digest":")" +
         digest('b') + R"("},
  {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":20,"digest":")" +
         digest('c') + R"("}]})";
}

std::string ociIndex() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" +
         digest('1') +
         R"(","platform":{"os":"linux","architecture":"arm","variant":"v6"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" +
         digest('2') +
         R"(","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" +
         digest('3') +
         R"(","platform":{"os":"linux","architecture":"amd64"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" +
         digest('4') + R"(","platform":{"os":"unknown","architecture":"unknown"}}]})";
}

TEST(Manifest, DockerSchema2) {
  auto m = parseManifest(dockerManifest());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_FALSE(m->isIndex);
  EXPECT_EQ(m->mediaType, kDockerManifest);
  EXPECT_EQ(m->config.digest, digest('a'));
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest, digest('c'));
  EXPECT_EQ(m->layers[1].size, 20);
}

TEST(Manifest, OciManifestWithoutMediaTypeTakesTheContentType) {
  std::string body =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":1,"digest":")" +
      digest('a') + R"("},"layers":[]})";
  auto m = parseManifest(body, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->mediaType, kOciManifest);
  EXPECT_TRUE(m->layers.empty());
}

TEST(Manifest, IndexAndPlatformSelection) {
  auto idx = parseManifest(ociIndex());
  ASSERT_TRUE(idx.ok());
  ASSERT_TRUE(idx->isIndex);
  ASSERT_EQ(idx->manifests.size(), 4u);
  auto amd = selectPlatform(*idx, {"linux", "amd64", ""});
  ASSERT_TRUE(amd.ok());
  EXPECT_EQ(amd->digest, digest('3'));
  auto v7 = selectPlatform(*idx, {"linux", "arm", "v7"});
  ASSERT_TRUE(v7.ok());
  EXPECT_EQ(v7->digest, digest('2'));
  auto anyArm = selectPlatform(*idx, {"linux", "arm", ""});
  ASSERT_TRUE(anyArm.ok());
  EXPECT_EQ(anyArm->digest, digest('1'));
  auto none = selectPlatform(*idx, {"linux", "s390x", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("linux/amd64"), std::string::npos)
      << none.status().message();
}

TEST(Manifest, DockerManifestList) {
  std::string list = ociIndex();
  list.replace(list.find("application/vnd.oci.image.index.v1+json"),
               std::string("application/vnd.oci.image.index.v1+json").size(),
               std::string(kDockerManifestList));
  auto idx = parseManifest(list);
  ASSERT_TRUE(idx.ok());
  EXPECT_TRUE(idx->isIndex);
}

TEST(Manifest, RejectsBadDocuments) {
  for (std::string bad :
       {std::string("[]"), std::string("{"), std::string(R"({"mediaType":"text/plain"})"),
        std::string(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json"})"),
        std::string(R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})"),
        std::string(R"({"config":{"digest":"sha256:../../etc/passwd"},"layers":[]})"),
        std::string(R"({"config":{"digest":")") + digest('a') +
            R"("},"layers":[{"mediaType":"text/html","digest":")" + digest('b') + R"("}]})",
        std::string(R"({"config":{"digest":")") + digest('a') + R"(","size":-1},"layers":[]})"}) {
    EXPECT_FALSE(parseManifest(bad).ok()) << bad;
  }
}

TEST(Manifest, ImageConfig) {
  std::string body = R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],
    "Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"WorkingDir":"/w","User":"1000:1000",
    "Labels":{"a":"b"}},"rootfs":{"type":"layers","diff_ids":[")" +
                     digest('d') + R"("]}})";
  auto c = parseImageConfig(body);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->config.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(c->config.cmd, (std::vector<std::string>{"echo hi"}));
  EXPECT_EQ(c->config.env, (std::vector<std::string>{"PATH=/bin"}));
  EXPECT_EQ(c->config.workingDir, "/w");
  EXPECT_EQ(c->config.user, "1000:1000");
  EXPECT_EQ(c->config.labels.at("a"), "b");
  EXPECT_EQ(c->platform.architecture, "amd64");
  EXPECT_EQ(c->diffIds, (std::vector<std::string>{digest('d')}));
  EXPECT_FALSE(parseImageConfig(R"({"rootfs":{"diff_ids":["sha256:x"]}})").ok());
  EXPECT_FALSE(parseImageConfig(R"({"config":{}})").ok());
}

// Mutated manifests, indexes and configs never crash the parsers; whatever parses keeps its
// digests in the one safe form (they become file names).
TEST(Manifest, FuzzNeverCrashes) {
  std::mt19937 rng(7);
  const std::string seeds[] = {
      dockerManifest(), ociIndex(),
      R"({"config":{"Cmd":["a"]},"rootfs":{"diff_ids":[")" + digest('e') + R"("]}})"};
  const std::string junk = "{}[]\",:0123456789abcdef-.\\u\x00\xff sha256";
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % 3];
    for (int e = 0, n = 1 + rng() % 6; e < n; ++e) {
      size_t pos = rng() % s.size();
      if (rng() % 2)
        s[pos] = junk[rng() % junk.size()];
      else
        s.erase(pos, rng() % 8);
      if (s.empty()) s = "{";
    }
    auto m = parseManifest(s);
    if (m.ok()) {
      for (const auto& d : m->layers) EXPECT_EQ(d.digest.size(), 71u);
      for (const auto& d : m->manifests) EXPECT_EQ(d.digest.size(), 71u);
      if (m->isIndex) (void)selectPlatform(*m, hostPlatform());
    }
    (void)parseImageConfig(s);
  }
}

}  // namespace
}  // namespace berth::kubelet::images
