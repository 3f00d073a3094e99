#include "kubelet/images/reference.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace berth::kubelet::images {
namespace {

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(Reference, NormalisesAsDocker) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
      {"berth-test/web:1.0", "docker.io/berth-test/web:1.0"},
      {"gcr.io/google-samples/kubernetes-bootcamp:v1",
       "gcr.io/google-samples/kubernetes-bootcamp:v1"},
      {"127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest"},
      {"localhost/x:y", "localhost/x:y"},
      {"localhost:5000/x", "localhost:5000/x:latest"},
      {"[::1]:5000/x:1", "[::1]:5000/x:1"},
      {"a__b/c.d-e--f", "docker.io/a__b/c.d-e--f:latest"},
      {"busybox@" + kDigest, "docker.io/library/busybox@" + kDigest},
      {"busybox:1.0@" + kDigest, "docker.io/library/busybox:1.0@" + kDigest},
      {"host:5000/x@" + kDigest, "host:5000/x@" + kDigest},
  };
  for (const auto& c : cases) {
    auto r = parseReference(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(r->string(), c.want) << c.in;
  }
}

TEST(Reference, Parts) {
  auto r = parseReference("127.0.0.1:5000/berth-test/web:2.0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->domain, "127.0.0.1:5000");
  EXPECT_EQ(r->path, "berth-test/web");
  EXPECT_EQ(r->tag, "2.0");
  EXPECT_EQ(r->manifestReference(), "2.0");
  EXPECT_EQ(r->repository(), "127.0.0.1:5000/berth-test/web");
  auto d = parseReference("busybox@" + kDigest);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->tag, "");
  EXPECT_EQ(d->manifestReference(), kDigest);
  EXPECT_EQ(d->digested(), "docker.io/library/busybox@" + kDigest);
}

TEST(Reference, RejectsInvalidNamesWithInvalidImageName) {
  for (std::string bad : std::vector<std::string>{"",
                                                  "Busybox",
                                                  "docker.io/Library/busybox",
                                                  "busybox:",
                                                  ":tag",
                                                  "busybox:-x",
                                                  "a//b",
                                                  "/a",
                                                  "a/",
                                                  "-a",
                                                  "a-",
                                                  "a..b",
                                                  "a:b:c",
                                                  "busybox@sha256:abc",
                                                  "busybox@md5:" + std::string(32, 'a'),
                                                  "host:/x",
                                                  "ho$t:5000/x",
                                                  "[::1/x",
                                                  "a b",
                                                  "busybox:" + std::string(129, 't'),
                                                  std::string(256, 'a')}) {
    auto r = parseReference(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "InvalidImageName") << bad;
    }
  }
}

// Property: any bytes parse or fail cleanly, and what parses round-trips through string().
TEST(Reference, FuzzNeverCrashesAndRoundTrips) {
  std::mt19937 rng(42);
  const std::string alphabet = "abcAZ09._-:/@[]sha256 \x01\xff";
  const std::string seeds[] = {"busybox", "a/b:c", "h:1/x@" + kDigest, "localhost/x",
                               "gcr.io/a/b:v1"};
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % 5];
    int edits = rng() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          s.insert(s.begin() + pos, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    auto r = parseReference(s);
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "InvalidImageName");
      continue;
    }
    ++parsed;
    auto again = parseReference(r->string());
    ASSERT_TRUE(again.ok()) << s << " → " << r->string();
    EXPECT_EQ(*again, *r) << s;
  }
  EXPECT_GT(parsed, 1000);  // the mutations keep many inputs valid, so the round trip is tested
}

}  // namespace
}  // namespace berth::kubelet::images
