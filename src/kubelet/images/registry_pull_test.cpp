// Pulls against a REAL docker-registry on 127.0.0.1 (scripts/local-registry.sh, the test
// images pushed to it): Docker and OCI manifests, indexes, digests, mirrors and rewrites,
// registry errors, corrupt blobs, Basic auth (htpasswd) and Bearer tokens (a token server).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "kubelet/images/local_image_service.h"
#include "kubelet/images/testing_util.h"

namespace berth::kubelet::images {
namespace {

using testing::LocalRegistry;
using testing::TempDir;
namespace fs = std::filesystem;

class RegistryPull : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { registry_ = new LocalRegistry(); }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(registry_->ok()) << registry_->error(); }

  // A store whose registries.yaml sends the registry itself, gcr.io and "rewrite.test" to
  // the local registry over plain HTTP, and never anywhere else.
  std::unique_ptr<LocalImageService> open(Platform platform = {"linux", "amd64", ""},
                                          const std::string& extraYaml = "") {
    std::string url = "http://" + registry_->host();
    auto config = parseRegistriesConfig(
        "mirrors:\n"
        "  \"" +
        registry_->host() + "\": {endpoint: [\"" + url +
        "\"]}\n"
        "  gcr.io: {endpoint: [\"" +
        url +
        "\"]}\n"
        "  rewrite.test:\n"
        "    endpoint: [\"" +
        url +
        "\"]\n"
        "    rewrite: {\"^apps/(.*)$\": \"berth-test/$1\"}\n" +
        extraYaml);
    EXPECT_TRUE(config.ok()) << config.status().message();
    config->disableDefaultEndpoint = true;
    auto s = LocalImageService::open(
        {root_.path() + "/" + std::to_string(stores_++), *config, platform});
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }
  std::string ref(const std::string& name) { return registry_->host() + "/" + name; }

  static LocalRegistry* registry_;
  TempDir root_;
  int stores_ = 0;
};
LocalRegistry* RegistryPull::registry_ = nullptr;

TEST_F(RegistryPull, OciManifestByTagThenByDigest) {
  auto s = open();
  auto image = s->ensure(ref("berth-test/busybox:1.0"), PullPolicy::kAlways);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->repoTags, (std::vector<std::string>{ref("berth-test/busybox:1.0")}));
  ASSERT_EQ(image->repoDigests.size(), 1u);
  EXPECT_TRUE(image->repoDigests[0].starts_with(ref("berth-test/busybox@sha256:")));
  EXPECT_EQ(image->config.cmd, (std::vector<std::string>{"sh"}));
  ASSERT_EQ(image->layerDirs.size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(image->layerDirs[0] + "/bin/busybox"));

  // The same image by digest, in a fresh store: same id; present afterwards under the digest.
  auto fresh = open();
  auto byDigest = fresh->ensure(image->repoDigests[0], PullPolicy::kIfNotPresent);
  ASSERT_TRUE(byDigest.ok()) << byDigest.status().message();
  EXPECT_EQ(byDigest->id, image->id);
  EXPECT_TRUE(fresh->ensure(image->repoDigests[0], PullPolicy::kNever).ok());
  EXPECT_FALSE(fresh->ensure(ref("berth-test/busybox:1.0"), PullPolicy::kNever).ok());
}

TEST_F(RegistryPull, DockerSchema2Manifest) {
  auto s = open();
  auto web = s->ensure(ref("berth-test/web:2.0"), PullPolicy::kIfNotPresent);
  ASSERT_TRUE(web.ok()) << web.status().message();
  EXPECT_EQ(web->config.labels.at("version"), "2");
  ASSERT_EQ(web->layerDirs.size(), 2u);
  EXPECT_EQ(testing::readFile(web->layerDirs[1] + "/www/index.html"), "web v2\n");
}

TEST_F(RegistryPull, IndexPicksThePlatform) {
  for (std::string arch : {"amd64", "arm64"}) {
    auto s = open({"linux", arch, ""});
    auto image = s->ensure(ref("berth-test/multi:1.0"), PullPolicy::kAlways);
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(testing::readFile(image->layerDirs.back() + "/arch"), arch + "\n");
  }
  auto s390 =
      open({"linux", "s390x", ""})->ensure(ref("berth-test/multi:1.0"), PullPolicy::kAlways);
  ASSERT_FALSE(s390.ok());
  EXPECT_EQ(s390.status().reason(), "ErrImagePull");
  EXPECT_NE(s390.status().message().find("no match for platform linux/s390x"), std::string::npos)
      << s390.status().message();
}

TEST_F(RegistryPull, MissingImageIsErrImagePullWithTheRegistrysReason) {
  auto s = open();
  for (const auto& name : {"berth-test/nope:1.0", "berth-test/web:9.9"}) {
    auto r = s->ensure(ref(name), PullPolicy::kIfNotPresent);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "ErrImagePull");
    EXPECT_NE(r.status().message().find("manifest unknown"), std::string::npos)
        << r.status().message();
  }
}

TEST_F(RegistryPull, MirrorServesTheLecturesImage) {
  auto s = open();
  auto image = s->ensure("gcr.io/google-samples/kubernetes-bootcamp:v1", PullPolicy::kIfNotPresent);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->repoTags[0], "gcr.io/google-samples/kubernetes-bootcamp:v1");
  EXPECT_EQ(testing::readFile(image->layerDirs[1] + "/www/index.html"),
            "Hello Kubernetes bootcamp! | v=1\n");
  // A rewrite maps the repository path for the mirror.
  auto rewritten = s->ensure("rewrite.test/apps/web:1.0", PullPolicy::kIfNotPresent);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
  EXPECT_EQ(rewritten->config.labels.at("version"), "1");
  EXPECT_EQ(rewritten->repoTags[0], "rewrite.test/apps/web:1.0");
}

TEST_F(RegistryPull, CorruptBlobIsADigestMismatch) {
  // The whiteout image's top layer is its own; corrupt it in the registry's storage.
  auto index = testing::readFile(testing::testImages() + "/layout/index.json");
  auto s = open();
  std::string blobs = registry_->dir() + "/storage/docker/registry/v2/blobs/sha256";
  std::string victim;
  auto probe = open();
  auto good = probe->ensure(ref("berth-test/whiteout:1.0"), PullPolicy::kAlways);
  ASSERT_TRUE(good.ok()) << good.status().message();
  auto records = probe->store().loadIndex();
  ASSERT_TRUE(records.ok());
  std::string digest = records->at(0).layers.back().digest;
  victim = blobs + "/" + digest.substr(7, 2) + "/" + digest.substr(7) + "/data";
  std::string original = testing::readFile(victim);
  ASSERT_FALSE(original.empty()) << victim;
  struct Restore {
    std::string path, bytes;
    ~Restore() { testing::writeFile(path, bytes); }
  } restore{victim, original};
  std::string corrupt = original;
  corrupt[corrupt.size() / 2] ^= 0x20;
  testing::writeFile(victim, corrupt);
  auto bad = s->ensure(ref("berth-test/whiteout:1.0"), PullPolicy::kAlways);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "ErrImagePull");
  EXPECT_NE(bad.status().message().find("digest mismatch"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(s->store().hasBlob(digest));
  EXPECT_TRUE(s->list().empty());
}

TEST(RegistryAuth, BasicAuthWithHtpasswd) {
  LocalRegistry registry("BERTH_PUSH_ONLY=berth-test/busybox:1.0 BERTH_REGISTRY_AUTH=alice:secret");
  ASSERT_TRUE(registry.ok()) << registry.error();
  TempDir root;
  auto open = [&](const std::string& auth) {
    auto config = parseRegistriesConfig(
        "mirrors: {\"" + registry.host() + "\": {endpoint: [\"http://" + registry.host() +
        "\"]}}\n" +
        (auth.empty() ? "" : "configs: {\"" + registry.host() + "\": {auth: " + auth + "}}\n"));
    EXPECT_TRUE(config.ok()) << config.status().message();
    static int n = 0;
    auto s = LocalImageService::open({root.path() + "/" + std::to_string(n++), *config});
    return std::move(*s);
  };
  std::string image = registry.host() + "/berth-test/busybox:1.0";
  auto anonymous = open("")->ensure(image, PullPolicy::kAlways);
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().reason(), "ErrImagePull");
  EXPECT_NE(anonymous.status().message().find("401"), std::string::npos)
      << anonymous.status().message();
  auto wrong = open("{username: alice, password: nope}")->ensure(image, PullPolicy::kAlways);
  EXPECT_FALSE(wrong.ok());
  auto right = open("{username: alice, password: secret}")->ensure(image, PullPolicy::kAlways);
  EXPECT_TRUE(right.ok()) << right.status().message();
  // A pod's imagePullSecret works without any node configuration.
  auto fromPod =
      open("")->ensure(image, PullPolicy::kAlways, {{registry.host(), "alice", "secret", ""}});
  EXPECT_TRUE(fromPod.ok()) << fromPod.status().message();
}

// A token server (testdata/token_server.py) for the registry's Bearer flow; killed by PID.
class TokenServer {
 public:
  TokenServer(const std::string& certPath, const std::string& creds) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::string script = testing::sourceDir() + "/src/kubelet/images/testdata/token_server.py";
      ::execl("/usr/bin/python3", "python3", script.c_str(), certPath.c_str(), creds.c_str(),
              "berth-issuer", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;  // the port, once the certificate is written
    char c;
    while (line.size() < 16 && ::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    port_ = std::atoi(line.c_str());
  }
  ~TokenServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(RegistryAuth, BearerTokenFromTheRealm) {
  TempDir dir;
  TokenServer tokens(dir.path() + "/cert.pem", "alice:secret");
  ASSERT_GT(tokens.port(), 0);
  LocalRegistry registry(
      "BERTH_PUSH_ONLY=berth-test/web:1.0 BERTH_REGISTRY_AUTH=alice:secret "
      "BERTH_REGISTRY_TOKEN_AUTH=\"http://127.0.0.1:" +
      std::to_string(tokens.port()) + "/token berth-registry berth-issuer " + dir.path() +
      "/cert.pem\"");
  ASSERT_TRUE(registry.ok()) << registry.error();
  std::string mirror =
      "mirrors: {\"" + registry.host() + "\": {endpoint: [\"http://" + registry.host() + "\"]}}\n";
  std::string image = registry.host() + "/berth-test/web:1.0";
  auto withCreds = parseRegistriesConfig(mirror + "configs: {\"" + registry.host() +
                                         "\": {auth: {username: alice, password: secret}}}\n");
  ASSERT_TRUE(withCreds.ok());
  auto s = LocalImageService::open({dir.path() + "/a", *withCreds});
  auto pulled = (*s)->ensure(image, PullPolicy::kAlways);
  ASSERT_TRUE(pulled.ok()) << pulled.status().message();
  EXPECT_EQ(pulled->config.labels.at("version"), "1");
  // Without credentials the token server refuses, and the pull says so.
  auto anonymous = LocalImageService::open({dir.path() + "/b", *parseRegistriesConfig(mirror)});
  auto refused = (*anonymous)->ensure(image, PullPolicy::kAlways);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "ErrImagePull");
  EXPECT_NE(refused.status().message().find("token server"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace berth::kubelet::images

namespace berth::kubelet::images {
namespace {

TEST(RegistryTls, HttpsWithCaFileOrInsecureSkipVerify) {
  TempDir dir;
  bool ok = false;
  testing::run(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
          dir.path() + "/key.pem -out " + dir.path() + "/cert.pem 2>/dev/null",
      &ok);
  ASSERT_TRUE(ok);
  LocalRegistry registry("BERTH_PUSH_ONLY=berth-test/busybox:1.0 BERTH_REGISTRY_TLS=\"" +
                         dir.path() + "/cert.pem " + dir.path() + "/key.pem\"");
  ASSERT_TRUE(registry.ok()) << registry.error();
  std::string image = registry.host() + "/berth-test/busybox:1.0";
  int n = 0;
  // No mirror: the registry's own endpoint, https://127.0.0.1:<port>.
  auto pull = [&](const std::string& tls) {
    auto config = parseRegistriesConfig(
        tls.empty() ? "" : "configs: {\"" + registry.host() + "\": {tls: " + tls + "}}");
    EXPECT_TRUE(config.ok()) << config.status().message();
    auto s = LocalImageService::open({dir.path() + "/" + std::to_string(n++), *config});
    return (*s)->ensure(image, PullPolicy::kAlways);
  };
  auto untrusted = pull("");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().reason(), "ErrImagePull");
  EXPECT_NE(untrusted.status().message().find("TLS handshake"), std::string::npos)
      << untrusted.status().message();
  auto withCa = pull("{ca_file: " + dir.path() + "/cert.pem}");
  EXPECT_TRUE(withCa.ok()) << withCa.status().message();
  auto skip = pull("{insecure_skip_verify: true}");
  EXPECT_TRUE(skip.ok()) << skip.status().message();
  auto missingCa = pull("{ca_file: " + dir.path() + "/nope.pem}");
  EXPECT_FALSE(missingCa.ok());
}

}  // namespace
}  // namespace berth::kubelet::images
