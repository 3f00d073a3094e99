#include "kubelet/images/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <map>

#include "kubelet/images/digest.h"
#include "kubelet/images/testing_util.h"

namespace berth::kubelet::images {
namespace {

using testing::TempDir;

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;
  int mode = 0644;
  int uid = 0, gid = 0;
  std::string link;  // symlink target or hard link target
  bool hardlink = false;
  std::map<std::string, std::string> xattrs;
};

enum class Compression { kNone, kGzip, kZstd };

// Writes `entries` as a tar (optionally compressed) to `path`; returns the uncompressed digest.
std::string writeTar(const std::string& path, const std::vector<Entry>& entries,
                     Compression c = Compression::kNone) {
  std::string raw;
  for (int pass = 0; pass < 2; ++pass) {  // pass 0: uncompressed in memory for the digest
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (pass == 1 && c == Compression::kGzip) archive_write_add_filter_gzip(a);
    if (pass == 1 && c == Compression::kZstd) archive_write_add_filter_zstd(a);
    std::vector<char> buf(8 << 20);
    size_t used = 0;
    if (pass == 0) {
      archive_write_set_bytes_in_last_block(a, 1);
      archive_write_open_memory(a, buf.data(), buf.size(), &used);
    } else {
      archive_write_open_filename(a, path.c_str());
    }
    for (const auto& e : entries) {
      archive_entry* ae = archive_entry_new();
      archive_entry_set_pathname(ae, e.path.c_str());
      archive_entry_set_filetype(ae, e.type);
      archive_entry_set_perm(ae, e.mode);
      archive_entry_set_uid(ae, e.uid);
      archive_entry_set_gid(ae, e.gid);
      archive_entry_set_mtime(ae, 1700000000, 0);
      if (e.hardlink) {
        archive_entry_set_hardlink(ae, e.link.c_str());
        archive_entry_set_size(ae, 0);
      } else if (e.type == AE_IFLNK) {
        archive_entry_set_symlink(ae, e.link.c_str());
      } else {
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
      }
      for (const auto& [k, v] : e.xattrs)
        archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
      archive_write_header(a, ae);
      if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    if (pass == 0) raw.assign(buf.data(), used);
  }
  return sha256Digest(raw);
}

struct stat lstatOf(const std::string& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st;
}

class LayerUnpack : public ::testing::TestWithParam<Compression> {};

TEST_P(LayerUnpack, KeepsMetadataAndTurnsWhiteoutsIntoOverlayForm) {
  TempDir tmp;
  std::string blob = tmp.path() + "/layer", dest = tmp.path() + "/out";
  std::filesystem::create_directory(dest);
  std::string diffId =
      writeTar(blob,
               {{"./etc/", AE_IFDIR, "", 0755},
                {"etc/secret", AE_IFREG, "s3cret", 0600, 1000, 2000},
                {"etc/secret-link", AE_IFREG, "", 0600, 0, 0, "etc/secret", true},
                {"etc/sym", AE_IFLNK, "", 0777, 0, 0, "secret"},
                {"bin/tool", AE_IFREG, "#!/bin/sh\n", 04755},  // parent dir comes implicitly
                {"etc/attr",
                 AE_IFREG,
                 "x",
                 0644,
                 0,
                 0,
                 "",
                 false,
                 {{"user.kept", "1"}, {"trusted.overlay.redirect", "/etc"}}},
                {"var/.wh.gone", AE_IFREG, ""},
                {"opaque/.wh..wh..opq", AE_IFREG, ""},
                {"opaque/new", AE_IFREG, "n"}},
               GetParam());
  auto computed = layerDiffId(blob);
  ASSERT_TRUE(computed.ok()) << computed.status().message();
  EXPECT_EQ(*computed, diffId);
  auto st = unpackLayer(blob, dest);
  ASSERT_TRUE(st.ok()) << st.message();

  auto secret = lstatOf(dest + "/etc/secret");
  EXPECT_EQ(secret.st_mode & 07777, 0600u);
  EXPECT_EQ(secret.st_uid, 1000u);  // numeric, never looked up by name
  EXPECT_EQ(secret.st_gid, 2000u);
  EXPECT_EQ(secret.st_nlink, 2u);
  EXPECT_EQ(lstatOf(dest + "/etc/secret-link").st_ino, secret.st_ino);
  EXPECT_EQ(testing::readFile(dest + "/etc/secret"), "s3cret");
  EXPECT_TRUE(S_ISLNK(lstatOf(dest + "/etc/sym").st_mode));
  EXPECT_EQ(std::filesystem::read_symlink(dest + "/etc/sym"), "secret");
  EXPECT_EQ(lstatOf(dest + "/bin/tool").st_mode & 07777, 04755u);
  char value[16] = {};
  EXPECT_EQ(::getxattr((dest + "/etc/attr").c_str(), "user.kept", value, sizeof value), 1);
  EXPECT_LT(
      ::getxattr((dest + "/etc/attr").c_str(), "trusted.overlay.redirect", value, sizeof value), 0);

  auto gone = lstatOf(dest + "/var/gone");
  EXPECT_TRUE(S_ISCHR(gone.st_mode));
  EXPECT_EQ(gone.st_rdev, makedev(0, 0));
  EXPECT_FALSE(std::filesystem::exists(dest + "/var/.wh.gone"));
  ssize_t n = ::getxattr((dest + "/opaque").c_str(), "trusted.overlay.opaque", value, sizeof value);
  EXPECT_EQ(std::string(value, n > 0 ? n : 0), "y");
  EXPECT_FALSE(std::filesystem::exists(dest + "/opaque/.wh..wh..opq"));
  EXPECT_EQ(testing::readFile(dest + "/opaque/new"), "n");
}

INSTANTIATE_TEST_SUITE_P(Compressions, LayerUnpack,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kZstd));

TEST(LayerUnpackSafety, RefusesToWriteOutsideTheLayer) {
  TempDir tmp;
  std::string outside = tmp.path() + "/outside";
  std::filesystem::create_directory(outside);
  struct Case {
    std::string name;
    std::vector<Entry> entries;
  } cases[] = {
      {"dotdot", {{"../outside/x", AE_IFREG, "x"}}},
      {"symlink dir then file",
       {{"evil", AE_IFLNK, "", 0777, 0, 0, outside}, {"evil/x", AE_IFREG, "x"}}},
      {"symlink dir then whiteout",
       {{"evil", AE_IFLNK, "", 0777, 0, 0, outside}, {"evil/.wh.victim", AE_IFREG, ""}}},
      {"hard link out", {{"h", AE_IFREG, "", 0644, 0, 0, "../outside/victim", true}}},
      {"hard link through a symlink",
       {{"evil", AE_IFLNK, "", 0777, 0, 0, outside},
        {"h", AE_IFREG, "", 0644, 0, 0, "evil/victim", true}}},
  };
  testing::writeFile(outside + "/victim", "keep");
  for (const auto& c : cases) {
    std::string blob = tmp.path() + "/blob", dest = tmp.path() + "/d-" + std::to_string(&c - cases);
    std::filesystem::create_directory(dest);
    writeTar(blob, c.entries);
    auto st = unpackLayer(blob, dest);
    EXPECT_FALSE(st.ok()) << c.name;
    EXPECT_FALSE(std::filesystem::exists(outside + "/x")) << c.name;
    EXPECT_EQ(testing::readFile(outside + "/victim"), "keep") << c.name;
    EXPECT_EQ(lstatOf(outside + "/victim").st_nlink, 1u) << c.name;
  }
}

TEST(LayerUnpackSafety, CorruptLayersFailCleanly) {
  TempDir tmp;
  std::string blob = tmp.path() + "/blob";
  writeTar(blob, {{"a", AE_IFREG, std::string(100000, 'a')}}, Compression::kGzip);
  std::string bytes = testing::readFile(blob);
  testing::writeFile(blob, bytes.substr(0, bytes.size() / 2));  // truncated gzip
  EXPECT_FALSE(layerDiffId(blob).ok());
  std::filesystem::create_directory(tmp.path() + "/d");
  EXPECT_FALSE(unpackLayer(blob, tmp.path() + "/d").ok());
  EXPECT_FALSE(unpackLayer(tmp.path() + "/missing", tmp.path() + "/d").ok());
}

TEST(LayerUnpackSafety, CleanLayerPath) {
  std::string out;
  EXPECT_TRUE(cleanLayerPath("./a//b/./c/", &out));
  EXPECT_EQ(out, "a/b/c");
  EXPECT_TRUE(cleanLayerPath("/abs/x", &out));
  EXPECT_EQ(out, "abs/x");
  EXPECT_TRUE(cleanLayerPath("./", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(cleanLayerPath("a/../../b", &out));
}

}  // namespace
}  // namespace berth::kubelet::images
