#include "kubelet/local_path_cleaner.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace {

TEST(LocalPathRemovable, OnlyTheVolumesOwnDirectoryUnderTheBase) {
  std::string why;
  EXPECT_TRUE(localPathRemovable("/data/storage", "pvc-1", "/data/storage/pvc-1_ns_claim", &why));
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/etc", &why));
  EXPECT_EQ(why, "path \"/etc\" is not in this node's local-path directory \"/data/storage\"");
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/data/storage", &why));
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/data/storage/x/pvc-1_ns_c", &why));
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/data/storage/pvc-2_ns_c", &why));
  EXPECT_EQ(why, "path \"/data/storage/pvc-2_ns_c\" is not named after volume \"pvc-1\"");
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/data/storage/pvc-10_ns_c", &why));
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "/data/storage/../pvc-1_ns_c", &why));
  EXPECT_EQ(why, "path \"/data/storage/../pvc-1_ns_c\" is not a plain absolute path");
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "data/storage/pvc-1_ns_c", &why));
  EXPECT_FALSE(localPathRemovable("/data/storage", "pvc-1", "", &why));
  // No usable base: nothing is removable.
  EXPECT_FALSE(localPathRemovable("/", "pvc-1", "/pvc-1_ns_c", &why));
  EXPECT_FALSE(localPathRemovable("storage", "pvc-1", "storage/pvc-1_ns_c", &why));
}

}  // namespace
}  // namespace berth::kubelet
