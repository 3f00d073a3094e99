// LocalImageService without a registry: archive import of both formats, pull policies, removal
// and the overlay root filesystem (mounted for real: these tests run as root).
#include "kubelet/images/local_image_service.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "kubelet/images/testing_util.h"

namespace berth::kubelet::images {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

std::unique_ptr<LocalImageService> openStore(const std::string& root,
                                             Platform platform = {"linux", "amd64", ""}) {
  RegistriesConfig registries;
  registries.disableDefaultEndpoint = true;  // nothing here may leave the machine
  auto s = LocalImageService::open({root, registries, platform});
  EXPECT_TRUE(s.ok());
  return s.ok() ? std::move(*s) : nullptr;
}

std::vector<std::string> tags(const std::vector<Image>& images) {
  std::vector<std::string> out;
  for (const auto& i : images) out.insert(out.end(), i.repoTags.begin(), i.repoTags.end());
  std::sort(out.begin(), out.end());
  return out;
}

// Unmounts on scope exit, so a failing assertion leaves no mount behind.
struct MountGuard {
  LocalImageService* service;
  std::string target;
  ~MountGuard() { (void)service->unmountRootfs(target); }
};

TEST(ImageImport, DockerSaveArchive) {
  TempDir root;
  auto s = openStore(root.path());
  auto imported = s->importArchive(testing::testImages() + "/docker-save.tar");
  ASSERT_TRUE(imported.ok()) << imported.status().message();
  EXPECT_EQ(tags(*imported),
            (std::vector<std::string>{
                "docker.io/berth-test/busybox:1.0", "docker.io/berth-test/web:1.0",
                "docker.io/berth-test/web:2.0", "docker.io/berth-test/whiteout:1.0"}));
  auto web = s->inspect("berth-test/web:1.0");
  ASSERT_TRUE(web.ok()) << web.status().message();
  EXPECT_EQ(web->config.cmd,
            (std::vector<std::string>{"busybox", "httpd", "-f", "-p", "8080", "-h", "/www"}));
  ASSERT_EQ(web->layerDirs.size(), 2u);
  EXPECT_EQ(testing::readFile(web->layerDirs[1] + "/www/index.html"), "web v1\n");
  // The busybox layer is unpacked once and shared.
  auto busybox = s->inspect("docker.io/berth-test/busybox:1.0");
  ASSERT_TRUE(busybox.ok());
  EXPECT_EQ(busybox->layerDirs[0], web->layerDirs[0]);
  EXPECT_TRUE(fs::is_regular_file(busybox->layerDirs[0] + "/bin/busybox"));
  // By id prefix too, as docker takes it.
  EXPECT_TRUE(s->inspect(web->id.substr(7, 12)).ok());
  // Importing again changes nothing.
  ASSERT_TRUE(s->importArchive(testing::testImages() + "/docker-save.tar").ok());
  EXPECT_EQ(s->list().size(), 4u);
}

TEST(ImageImport, OciLayoutArchiveResolvesIndexesForThePlatform) {
  TempDir root;
  auto s = openStore(root.path(), {"linux", "arm64", ""});
  auto imported = s->importArchive(testing::testImages() + "/oci-layout.tar");
  ASSERT_TRUE(imported.ok()) << imported.status().message();
  EXPECT_EQ(imported->size(), 6u);
  auto multi = s->inspect("berth-test/multi:1.0");
  ASSERT_TRUE(multi.ok()) << multi.status().message();
  EXPECT_EQ(testing::readFile(multi->layerDirs.back() + "/arch"), "arm64\n");
  auto bootcamp = s->inspect("gcr.io/google-samples/kubernetes-bootcamp:v1");
  ASSERT_TRUE(bootcamp.ok());
  EXPECT_EQ(bootcamp->repoDigests.size(), 1u);
  // The same image by the digest the layout recorded.
  EXPECT_TRUE(s->inspect(bootcamp->repoDigests[0]).ok()) << bootcamp->repoDigests[0];
}

TEST(ImageImport, CorruptOrForeignArchivesAreRejected) {
  TempDir root, work;
  auto s = openStore(root.path());
  // A layout whose layer blob does not match its digest.
  fs::copy(testing::testImages() + "/layout", work.path() + "/layout", fs::copy_options::recursive);
  std::string victim;
  for (const auto& e : fs::directory_iterator(work.path() + "/layout/blobs/sha256"))
    if (fs::file_size(e.path()) > 100000) victim = e.path();
  ASSERT_FALSE(victim.empty());
  std::string bytes = testing::readFile(victim);
  bytes[bytes.size() / 2] ^= 0x55;
  testing::writeFile(victim, bytes);
  bool ok = false;
  testing::run("tar -C " + work.path() + "/layout -cf " + work.path() + "/bad.tar .", &ok);
  ASSERT_TRUE(ok);
  auto bad = s->importArchive(work.path() + "/bad.tar");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("digest mismatch"), std::string::npos)
      << bad.status().message();
  EXPECT_TRUE(s->list().empty());

  testing::writeFile(work.path() + "/junk.tar", "not a tar at all");
  EXPECT_EQ(s->importArchive(work.path() + "/junk.tar").status().code(), 400);
  testing::run("tar -C " + work.path() + "/layout -cf " + work.path() + "/empty.tar oci-layout");
  EXPECT_EQ(s->importArchive(work.path() + "/empty.tar").status().code(), 400);
}

TEST(ImagePolicy, NeverIfNotPresentAlwaysAndInvalidNames) {
  TempDir root;
  auto s = openStore(root.path());
  auto never = s->ensure("berth-test/busybox:1.0", PullPolicy::kNever);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.status().reason(), "ErrImageNeverPull");
  EXPECT_NE(never.status().message().find("not present with pull policy of Never"),
            std::string::npos);
  ASSERT_TRUE(s->importArchive(testing::testImages() + "/docker-save.tar").ok());
  EXPECT_TRUE(s->ensure("berth-test/busybox:1.0", PullPolicy::kNever).ok());
  // Present: no registry is asked (none is reachable here).
  EXPECT_TRUE(s->ensure("docker.io/berth-test/busybox:1.0", PullPolicy::kIfNotPresent).ok());
  auto always = s->ensure("berth-test/busybox:1.0", PullPolicy::kAlways);
  ASSERT_FALSE(always.ok());
  EXPECT_EQ(always.status().reason(), "ErrImagePull");
  auto refused = s->ensure("127.0.0.1:1/x:1", PullPolicy::kIfNotPresent);
  EXPECT_EQ(refused.status().reason(), "ErrImagePull");
  for (const char* bad : {"Busybox", "a@sha256:123", "x:", ""}) {
    auto r = s->ensure(bad, PullPolicy::kIfNotPresent);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "InvalidImageName") << bad;
  }
}

TEST(ImageRemove, DropsTheImageAndOnlyItsOwnLayers) {
  TempDir root;
  auto s = openStore(root.path());
  ASSERT_TRUE(s->importArchive(testing::testImages() + "/docker-save.tar").ok());
  auto web2 = s->inspect("berth-test/web:2.0");
  ASSERT_TRUE(web2.ok());
  ASSERT_TRUE(s->remove("berth-test/web:2.0").ok());
  EXPECT_TRUE(s->inspect("berth-test/web:2.0").status().isNotFound());
  EXPECT_FALSE(fs::exists(web2->layerDirs[1]));  // its page layer
  EXPECT_TRUE(fs::exists(web2->layerDirs[0]));   // the busybox layer others use
  EXPECT_TRUE(s->inspect("berth-test/web:1.0").ok());
  EXPECT_TRUE(s->remove("berth-test/web:2.0").isNotFound());
}

TEST(ImageRootfs, OverlayShowsTheImageAndWhiteoutsHideDeletedFiles) {
  TempDir root, scratch;
  auto s = openStore(root.path());
  ASSERT_TRUE(s->importArchive(testing::testImages() + "/docker-save.tar").ok());
  auto image = s->inspect("berth-test/whiteout:1.0");
  ASSERT_TRUE(image.ok());
  std::string target = scratch.path() + "/rootfs";
  MountGuard guard{s.get(), target};
  auto st = s->mountRootfs(*image, scratch.path(), target);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(fs::is_regular_file(target + "/bin/busybox"));
  EXPECT_FALSE(fs::exists(target + "/data/a"));  // whited out by the top layer
  EXPECT_EQ(testing::readFile(target + "/data/b"), "b\n");
  EXPECT_FALSE(fs::exists(target + "/olddir/x"));  // the opaque directory hides the lower one
  EXPECT_FALSE(fs::exists(target + "/olddir/sub"));
  EXPECT_EQ(testing::readFile(target + "/olddir/y"), "y\n");
  struct stat b {};
  ASSERT_EQ(::stat((target + "/data/b").c_str(), &b), 0);
  EXPECT_EQ(b.st_uid, 1000u);
  EXPECT_EQ(b.st_mode & 0777, 0640u);
  // Writes land in the scratch upper directory, never in the shared layers.
  testing::writeFile(target + "/data/new", "n");
  fs::remove(target + "/data/b");
  EXPECT_EQ(testing::readFile(scratch.path() + "/upper/data/new"), "n");
  EXPECT_EQ(testing::readFile(image->layerDirs[1] + "/data/b"), "b\n");
  // Removing the image while it is mounted keeps the layers the mount stands on.
  ASSERT_TRUE(s->remove("berth-test/whiteout:1.0").ok());
  EXPECT_TRUE(fs::exists(image->layerDirs[2]));
  EXPECT_EQ(testing::readFile(target + "/olddir/y"), "y\n");
  ASSERT_TRUE(s->unmountRootfs(target).ok());
  EXPECT_FALSE(fs::exists(target + "/bin/busybox"));
  EXPECT_TRUE(s->unmountRootfs(target).ok());  // twice is fine
  ASSERT_TRUE(s->store().collectGarbage().ok());
  EXPECT_FALSE(fs::exists(image->layerDirs[2]));
  EXPECT_TRUE(fs::exists(image->layerDirs[0]));  // busybox:1.0 still has it
}

}  // namespace
}  // namespace berth::kubelet::images
