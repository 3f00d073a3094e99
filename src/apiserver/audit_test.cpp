#include "apiserver/audit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace berth::apiserver {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz", "/livez"]
- level: None
  users: ["system:kube-scheduler"]
  verbs: ["watch"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
    resourceNames: ["special"]
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "pods/log", "*/status"]
- level: Request
  namespaces: ["audited"]
  omitStages: []
- level: Metadata
)";

RequestInfo resource(std::string verb, std::string group, std::string res, std::string ns = "",
                     std::string name = "", std::string sub = "") {
  RequestInfo i;
  i.isResourceRequest = true;
  i.verb = std::move(verb);
  i.group = std::move(group);
  i.resource = std::move(res);
  i.namespace_ = std::move(ns);
  i.name = std::move(name);
  i.subresource = std::move(sub);
  return i;
}

TEST(AuditPolicy, FirstMatchingRuleDecides) {
  auto p = parseAuditPolicy(kPolicy);
  ASSERT_TRUE(p.ok()) << p.status().message();
  http::UserInfo alice{"alice", {"system:authenticated"}};
  http::UserInfo sched{"system:kube-scheduler", {"system:authenticated"}};
  RequestInfo health;
  health.path = "/healthz/etcd";
  health.verb = "get";
  EXPECT_EQ(p->decide(alice, health).level, AuditLevel::kNone);
  EXPECT_EQ(p->decide(sched, resource("watch", "", "pods")).level, AuditLevel::kNone);
  EXPECT_EQ(p->decide(sched, resource("list", "", "pods")).level, AuditLevel::kMetadata);
  EXPECT_EQ(p->decide(alice, resource("get", "", "configmaps", "x", "special")).level,
            AuditLevel::kRequestResponse);
  EXPECT_EQ(p->decide(alice, resource("get", "", "configmaps", "x", "other")).level,
            AuditLevel::kMetadata);
  EXPECT_EQ(p->decide(alice, resource("get", "", "pods", "x", "p", "log")).level,
            AuditLevel::kMetadata);
  EXPECT_EQ(p->decide(alice, resource("update", "apps", "deployments", "x", "d", "status")).level,
            AuditLevel::kMetadata);
  auto audited = p->decide(alice, resource("create", "apps", "deployments", "audited"));
  EXPECT_EQ(audited.level, AuditLevel::kRequest);
  EXPECT_TRUE(audited.omitStages.empty());  // the rule's own (empty) list replaces the policy's
  auto other = p->decide(alice, resource("create", "apps", "deployments", "elsewhere"));
  EXPECT_EQ(other.omitStages, std::vector<std::string>{"RequestReceived"});
}

TEST(AuditPolicy, RejectsBadPolicies) {
  EXPECT_FALSE(parseAuditPolicy("kind: Policy\napiVersion: audit.k8s.io/v1\nrules: []").ok());
  EXPECT_FALSE(parseAuditPolicy("kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n- level: Loud")
                   .ok());
  EXPECT_FALSE(parseAuditPolicy("kind: Policy\napiVersion: audit.k8s.io/v1\nomitStages: [Never]\n"
                                "rules:\n- level: None")
                   .ok());
  EXPECT_FALSE(parseAuditPolicy("[[[").ok());
  EXPECT_FALSE(parseAuditPolicy("kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n"
                                "- level: None\n  nonResourceURLs: [/x]\n  namespaces: [a]")
                   .ok());
}

TEST(AuditLog, RotatesAtMaxSizeAndKeepsMaxBackups) {
  fs::path dir = fs::temp_directory_path() / ("berth-audit-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto log = AuditLog::open({(dir / "audit.log").string(), 1, 2, 0});
  ASSERT_TRUE(log.ok()) << log.status().message();
  std::string line(1000, 'x');
  for (int i = 0; i < 4 * 1100; ++i) {  // about 4.4 MB: four rotations
    (*log)->write(line);
    if (i % 1100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int backups = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != "audit.log") ++backups;
    EXPECT_LE(fs::file_size(e.path()), 1024u * 1024u);
  }
  EXPECT_EQ(backups, 2);
  EXPECT_EQ(fs::status(dir / "audit.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace berth::apiserver
