// Round trips through loadKubeconfig: what Berth writes for its users reads back as written.
#include "client/kubeconfig_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "client/rest_client.h"

namespace berth::client {
namespace {

class KubeconfigWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/berth-kubeconfig-writer-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(KubeconfigWriterTest, BearerTokenAndNamespaceReadBack) {
  KubeconfigEntry e{.server = "https://127.0.0.1:6443",
                    .caPem = "-----BEGIN CERTIFICATE-----\nca\n",
                    .userName = "admin",
                    .bearerToken = "t0ken",
                    .defaultNamespace = "team-a"};
  std::string path = dir_ + "/admin.kubeconfig";
  ASSERT_TRUE(writeKubeconfig(path, e).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto c = loadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, e.server);
  EXPECT_EQ(c->caPem, e.caPem);
  EXPECT_EQ(c->bearerToken, "t0ken");
  EXPECT_TRUE(c->clientCertPem.empty());
  EXPECT_EQ(c->defaultNamespace, "team-a");
}

TEST_F(KubeconfigWriterTest, ClientCertificateWithoutNamespace) {
  KubeconfigEntry e{.server = "https://[::1]:6443",
                    .caPem = "ca",
                    .userName = "scheduler",
                    .clientCertPem = "cert\n",
                    .clientKeyPem = "key\n"};
  EXPECT_EQ(kubeconfigYaml(e).find("namespace:"), std::string::npos);
  EXPECT_EQ(kubeconfigYaml(e).find("token:"), std::string::npos);
  std::string path = dir_ + "/scheduler.kubeconfig";
  ASSERT_TRUE(writeKubeconfig(path, e).ok());
  auto c = loadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, "https://[::1]:6443");
  EXPECT_EQ(c->clientCertPem, "cert\n");
  EXPECT_EQ(c->clientKeyPem, "key\n");
  EXPECT_TRUE(c->bearerToken.empty());
  EXPECT_EQ(c->defaultNamespace, "default");  // the client's own default
}

TEST_F(KubeconfigWriterTest, UnwritableDirectoryIsAStatus) {
  auto st = writeKubeconfig(dir_ + "/missing/x.kubeconfig", KubeconfigEntry{});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace berth::client
