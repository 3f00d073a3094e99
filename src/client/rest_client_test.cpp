// RestClient against the real `berth server`: status mapping, verbs, keep-alive, rate limiting
// and watch cancellation.
#include "client/rest_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/indexer.h"
#include "client/testing_server.h"

namespace berth::client {
namespace {

namespace json = boost::json;
using namespace berth::client::testing;
using std::chrono::milliseconds;

class RestClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer("memory");
    ASSERT_TRUE(server_->start());
    auto c = server_->client("berth-client-test");
    ASSERT_TRUE(c);
    createNamespace(*c, "rest");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_);
    client_ = server_->client("berth-client-test/v1");
    ASSERT_TRUE(client_);
  }
  static TestServer* server_;
  std::unique_ptr<RestClient> client_;
};
TestServer* RestClientTest::server_ = nullptr;

TEST(Kubeconfig, ErrorsAreStatusesNotCrashes) {
  auto missing = loadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), 400);
  char path[] = "/tmp/berth-kubeconfig-XXXXXX";
  int fd = mkstemp(path);
  ::close(fd);
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: nope\ncontexts: []\n";
  auto noCtx = loadKubeconfig(path);
  ASSERT_FALSE(noCtx.ok());
  EXPECT_NE(noCtx.status().message().find("nope"), std::string::npos);
  std::remove(path);
  EXPECT_FALSE(RestClient::create(RestConfig{.server = "http://127.0.0.1:1"}).ok());
}

TEST_F(RestClientTest, CrudAndServerStatusesBecomeCoreStatus) {
  auto created = client_->create(kConfigMaps, "rest", configMap("rest", "crud", "1"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_FALSE(std::string(objectResourceVersion(*created)).empty());

  auto dup = client_->create(kConfigMaps, "rest", configMap("rest", "crud"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), 409);
  EXPECT_TRUE(dup.status().isAlreadyExists());
  EXPECT_EQ(dup.status().detailName(), "crud");

  auto missing = client_->get(kConfigMaps, "rest", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), 404);
  EXPECT_TRUE(missing.status().isNotFound());
  EXPECT_EQ(missing.status().message(), "configmaps \"nope\" not found");

  auto invalid = client_->create(kConfigMaps, "rest", configMap("rest", "Bad_Name"));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), 422);
  EXPECT_TRUE(invalid.status().isInvalid());
  ASSERT_FALSE(invalid.status().causes().empty());
  EXPECT_EQ(invalid.status().causes()[0].field, "metadata.name");

  // Update with the current resourceVersion succeeds; replaying the stale one conflicts.
  json::value stale = *created;
  json::value next = *created;
  next.as_object()["data"].as_object()["k"] = "2";
  auto updated = client_->update(kConfigMaps, "rest", next);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->at("data").at("k"), "2");
  stale.as_object()["data"].as_object()["k"] = "3";
  auto conflict = client_->update(kConfigMaps, "rest", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), 409);
  EXPECT_TRUE(conflict.status().isConflict());

  auto removed = client_->remove(kConfigMaps, "rest", "crud");
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_TRUE(client_->get(kConfigMaps, "rest", "crud").status().isNotFound());
}

TEST_F(RestClientTest, PatchTypesAndStatusSubresource) {
  ASSERT_TRUE(client_->create(kConfigMaps, "rest", configMap("rest", "patched")).ok());
  auto merge =
      client_->patch(kConfigMaps, "rest", "patched", PatchType::kMerge, R"({"data":{"m":"1"}})");
  ASSERT_TRUE(merge.ok()) << merge.status().message();
  auto smp = client_->patch(kConfigMaps, "rest", "patched", PatchType::kStrategicMerge,
                            R"({"metadata":{"labels":{"s":"1"}}})");
  ASSERT_TRUE(smp.ok()) << smp.status().message();
  auto jp = client_->patch(kConfigMaps, "rest", "patched", PatchType::kJson,
                           R"([{"op":"add","path":"/data/j","value":"1"}])");
  ASSERT_TRUE(jp.ok()) << jp.status().message();
  auto apply = client_->patch(kConfigMaps, "rest", "patched", PatchType::kApply,
                              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched\n"
                              "data:\n  a: \"1\"\n",
                              {.fieldManager = "client-test", .force = true});
  ASSERT_TRUE(apply.ok()) << apply.status().message();
  auto got = client_->get(kConfigMaps, "rest", "patched");
  ASSERT_TRUE(got.ok());
  const auto& data = got->at("data").as_object();
  EXPECT_EQ(data.at("m"), "1");
  EXPECT_EQ(data.at("j"), "1");
  EXPECT_EQ(data.at("a"), "1");
  EXPECT_EQ(got->at("metadata").at("labels").at("s"), "1");

  auto badPatch = client_->patch(kConfigMaps, "rest", "patched", PatchType::kJson, "{not json");
  ASSERT_FALSE(badPatch.ok());
  EXPECT_EQ(badPatch.status().code(), 400);

  // Status subresource: a namespace's status is written through namespaces/x/status.
  auto ns = client_->get(kNamespaces, "", "rest");
  ASSERT_TRUE(ns.ok());
  json::value withStatus = *ns;
  withStatus.as_object()["status"] = json::object{{"phase", "Active"}};
  auto st = client_->updateStatus(kNamespaces, "", withStatus);
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->at("status").at("phase"), "Active");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Makes (once) in the server's data dir: good.crt/key, signed by the cluster CA with the openssl
// CLI, and bad.crt/key, self-signed; returns the directory.
std::string makeClientCerts(const std::string& dataDir) {
  std::string tls = dataDir + "/tls";
  std::string dir = dataDir + "/client-cert";
  std::string cmd = "mkdir -p " + dir + " && cd " + dir +
                    " && openssl req -new -newkey rsa:2048 -nodes -keyout good.key -out good.csr"
                    " -subj '/O=system:masters/CN=cert-user' 2>/dev/null"
                    " && openssl x509 -req -in good.csr -CA " +
                    tls + "/ca.crt -CAkey " + tls +
                    "/ca.key -CAcreateserial -days 1 -out good.crt 2>/dev/null"
                    " && openssl req -x509 -newkey rsa:2048 -nodes -keyout bad.key -out bad.crt"
                    " -days 1 -subj '/O=system:masters/CN=intruder' 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return dir;
}

// Client-certificate authentication: a certificate the cluster CA signed (made here with the
// openssl CLI from the server's CA) is accepted; a self-signed one is not.
TEST_F(RestClientTest, ClientCertificateAuthentication) {
  auto cfg = loadKubeconfig(server_->kubeconfigPath());
  ASSERT_TRUE(cfg.ok());
  std::string dir = makeClientCerts(server_->dataDir());
  RestConfig good = *cfg;
  good.bearerToken.clear();
  good.clientCertPem = slurp(dir + "/good.crt");
  good.clientKeyPem = slurp(dir + "/good.key");
  auto c = RestClient::create(good);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto r = (*c)->get(kNamespaces, "", "default");
  EXPECT_TRUE(r.ok()) << r.status().message();

  RestConfig bad = good;
  bad.clientCertPem = slurp(dir + "/bad.crt");
  bad.clientKeyPem = slurp(dir + "/bad.key");
  auto b = RestClient::create(bad);
  ASSERT_TRUE(b.ok());
  auto denied = (*b)->get(kNamespaces, "", "default");
  ASSERT_FALSE(denied.ok());
  // Rejected in the handshake (a transport error) or as 401, never served.
  EXPECT_TRUE(denied.status().code() == 401 || denied.status().code() == 503)
      << denied.status().code() << " " << denied.status().message();

  RestConfig mismatched = good;
  mismatched.clientKeyPem = slurp(dir + "/bad.key");
  EXPECT_EQ(RestClient::create(mismatched).status().code(), 400);
}

TEST_F(RestClientTest, WrongCaOrTokenIsRefused) {
  auto cfg = loadKubeconfig(server_->kubeconfigPath());
  ASSERT_TRUE(cfg.ok());
  RestConfig noToken = *cfg;
  noToken.bearerToken = "wrong";
  auto c = RestClient::create(noToken);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->get(kNamespaces, "", "default");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 401);
  EXPECT_EQ(r.status().reason(), "Unauthorized");

  RestConfig otherCa = *cfg;
  otherCa.caPem = slurp(makeClientCerts(server_->dataDir()) + "/bad.crt");
  auto o = RestClient::create(otherCa);
  ASSERT_TRUE(o.ok());
  auto untrusted = (*o)->get(kNamespaces, "", "default");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), 503);
  EXPECT_NE(untrusted.status().message().find("certificate"), std::string::npos)
      << untrusted.status().message();
}

TEST_F(RestClientTest, KeepAliveReusesConnections) {
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client_->get(kNamespaces, "", "default").ok());
  EXPECT_EQ(client_->requestsSent(), 30);
  EXPECT_EQ(client_->connectionsOpened(), 1);
}

TEST_F(RestClientTest, ListPagesWithLimitAndContinue) {
  createNamespace(*client_, "paging");
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(
        client_->create(kConfigMaps, "paging", configMap("paging", "p" + std::to_string(i))).ok());
  std::vector<std::string> names;
  // (kube-root-ca.crt, which the server publishes into every namespace, is not the test's.)
  ListOptions o{.fieldSelector = "metadata.name!=kube-root-ca.crt", .limit = 3};
  int pages = 0;
  for (;;) {
    auto page = client_->list(kConfigMaps, "paging", o);
    ASSERT_TRUE(page.ok()) << page.status().message();
    ++pages;
    for (const auto& item : page->at("items").as_array())
      names.emplace_back(item.at("metadata").at("name").as_string());
    const auto& meta = page->at("metadata").as_object();
    if (!meta.contains("continue") || meta.at("continue").as_string().empty()) break;
    o.continueToken = std::string(meta.at("continue").as_string());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names.size(), 7u);
}

TEST_F(RestClientTest, QpsLimitSpacesRequests) {
  auto slow = server_->client("berth-client-test/slow", 20, 1);
  ASSERT_TRUE(slow);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(slow->get(kNamespaces, "", "default").ok());
  // 1 from the burst, then 5 more at 20/s: at least 250 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(240));
}

TEST_F(RestClientTest, WatchStreamsEventsAndStopsFromAnotherThread) {
  auto list = client_->list(kConfigMaps, "rest");
  ASSERT_TRUE(list.ok());
  std::string rv(list->at("metadata").at("resourceVersion").as_string());
  auto w = client_->watch(kConfigMaps, "rest", {.resourceVersion = rv});
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::vector<std::string> seen;
  std::atomic<bool> gotEvent{false};
  std::thread writer([&] {
    auto c = server_->client("writer");
    ASSERT_TRUE(c->create(kConfigMaps, "rest", configMap("rest", "watched")).ok());
    ASSERT_TRUE(c->remove(kConfigMaps, "rest", "watched").ok());
    ASSERT_TRUE(eventually([&] { return gotEvent.load(); }));
    std::this_thread::sleep_for(milliseconds(100));
    (*w)->stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto st = (*w)->run([&](WatchEvent&& ev) {
    seen.push_back(ev.type + " " + std::string(ev.object.at("metadata").at("name").as_string()));
    if (ev.type == "DELETED") gotEvent = true;
    return true;
  });
  writer.join();
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED watched", "DELETED watched"}));
}

}  // namespace
}  // namespace berth::client
