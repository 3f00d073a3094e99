#pragma once
// Auditing as upstream's (k8s.io/apiserver/pkg/audit): `--audit-policy-file` (audit.k8s.io/v1
// Policy: the first rule matching a request sets its level and the stages left out) and
// `--audit-log-path` (one audit.k8s.io/v1 Event per line, JSON; "-" = standard output), with
// lumberjack-style rotation (`--audit-log-maxsize` MB, `--audit-log-maxbackup` files,
// `--audit-log-maxage` days). Stages: RequestReceived, ResponseStarted (long-running requests:
// watches, logs, exec), ResponseComplete, Panic (the handler threw). Levels: None, Metadata,
// Request (+ requestObject), RequestResponse (+ responseObject).
//
// Every request gets an Audit-ID (also sent as the `Audit-Id` response header, as upstream).
//
// Thread-safety: Auditor::handle runs concurrently; lines are written whole under a mutex.
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/http/server.h"
#include "apiserver/request_metrics.h"
#include "core/result.h"

namespace berth::apiserver {

enum class AuditLevel { kNone, kMetadata, kRequest, kRequestResponse };

struct AuditPolicyRule {
  AuditLevel level = AuditLevel::kNone;
  std::vector<std::string> users, userGroups, verbs, namespaces, nonResourceURLs;
  struct GroupResources {
    std::string group;
    std::vector<std::string> resources;      // "pods", "pods/log", "*/status", "*"
    std::vector<std::string> resourceNames;
  };
  std::vector<GroupResources> resources;
  std::optional<std::vector<std::string>> omitStages;  // replaces the policy's when set
};

struct AuditPolicy {
  std::vector<AuditPolicyRule> rules;
  std::vector<std::string> omitStages;
  bool omitManagedFields = false;

  struct Decision {
    AuditLevel level = AuditLevel::kNone;
    std::vector<std::string> omitStages;
  };
  Decision decide(const http::UserInfo& user, const RequestInfo& info) const;
};

core::Result<AuditPolicy> parseAuditPolicy(std::string_view yaml);
core::Result<AuditPolicy> loadAuditPolicy(const std::string& path);

struct AuditLogOptions {
  std::string path;  // "-" = stdout
  int maxSizeMB = 100;
  int maxBackups = 0;  // 0 = keep all
  int maxAgeDays = 0;  // 0 = keep all
};

// The log file with rotation: when a line would take the file past maxSizeMB, the file is
// renamed to <name>-<UTC time>.<ext> and a new one started; old backups beyond maxBackups or
// older than maxAgeDays are removed.
class AuditLog {
 public:
  static core::Result<std::unique_ptr<AuditLog>> open(AuditLogOptions options);
  void write(const std::string& line);

 private:
  explicit AuditLog(AuditLogOptions options) : o_(std::move(options)) {}
  core::Status reopen();
  void rotate();
  AuditLogOptions o_;
  std::mutex mu_;
  std::ofstream out_;
  uint64_t size_ = 0;
};

class Auditor {
 public:
  Auditor(AuditPolicy policy, std::unique_ptr<AuditLog> log)
      : policy_(std::move(policy)), log_(std::move(log)) {}
  // Runs next(request, writer), writing the request's events as the policy says.
  void handle(http::Request& request, http::ResponseWriter& writer, const http::Handler& next);

 private:
  AuditPolicy policy_;
  std::unique_ptr<AuditLog> log_;
};

}  // namespace berth::apiserver
