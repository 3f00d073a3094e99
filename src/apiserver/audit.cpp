#include "apiserver/audit.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "apiserver/api_handler.h"  // anonymousUser
#include "apiserver/request_parsing.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::Result;
using core::Status;

namespace {

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n && n.IsSequence())
    for (const auto& x : n) out.push_back(x.as<std::string>());
  return out;
}

Result<AuditLevel> parseLevel(const std::string& s) {
  if (s == "None") return AuditLevel::kNone;
  if (s == "Metadata") return AuditLevel::kMetadata;
  if (s == "Request") return AuditLevel::kRequest;
  if (s == "RequestResponse") return AuditLevel::kRequestResponse;
  return Status::badRequest("audit policy: unknown level \"" + s +
                            "\" (None, Metadata, Request, RequestResponse)");
}

Status checkStages(const std::vector<std::string>& stages) {
  for (const auto& s : stages) {
    if (s != "RequestReceived" && s != "ResponseStarted" && s != "ResponseComplete" &&
        s != "Panic")
      return Status::badRequest("audit policy: unknown stage \"" + s + "\"");
  }
  return {};
}

const char* levelName(AuditLevel l) {
  switch (l) {
    case AuditLevel::kNone:
      return "None";
    case AuditLevel::kMetadata:
      return "Metadata";
    case AuditLevel::kRequest:
      return "Request";
    case AuditLevel::kRequestResponse:
      return "RequestResponse";
  }
  return "None";
}

// "pods", "pods/log", "*", "*/status", "pods/*" against a resource and subresource.
bool resourceMatches(const std::string& pattern, const RequestInfo& info) {
  std::string combined = info.subresource.empty() ? info.resource
                                                  : info.resource + "/" + info.subresource;
  if (pattern == "*" || pattern == combined) return true;
  if (pattern == "*/" + info.subresource && !info.subresource.empty()) return true;
  if (pattern == info.resource + "/*" && !info.subresource.empty()) return true;
  return false;
}

bool ruleMatches(const AuditPolicyRule& r, const http::UserInfo& user, const RequestInfo& info) {
  if (!r.users.empty() && !contains(r.users, user.name)) return false;
  if (!r.userGroups.empty()) {
    bool any = false;
    for (const auto& g : user.groups) any = any || contains(r.userGroups, g);
    if (!any) return false;
  }
  if (!r.verbs.empty() && !contains(r.verbs, info.verb)) return false;
  if (!r.namespaces.empty() || !r.resources.empty()) {
    if (!info.isResourceRequest) return false;
    if (!r.namespaces.empty() && !contains(r.namespaces, info.namespace_)) return false;
    if (!r.resources.empty()) {
      bool any = false;
      for (const auto& gr : r.resources) {
        if (gr.group != info.group) continue;
        bool resourceOk = gr.resources.empty();
        for (const auto& p : gr.resources) resourceOk = resourceOk || resourceMatches(p, info);
        if (!resourceOk) continue;
        if (!gr.resourceNames.empty() && !contains(gr.resourceNames, info.name)) continue;
        any = true;
        break;
      }
      if (!any) return false;
    }
  }
  if (!r.nonResourceURLs.empty()) {
    if (info.isResourceRequest) return false;
    bool any = false;
    for (const auto& u : r.nonResourceURLs) {
      if (u == info.path || (u.ends_with("*") && info.path.starts_with(u.substr(0, u.size() - 1))))
        any = true;
    }
    if (!any) return false;
  }
  return true;
}

std::string timestamp(std::chrono::system_clock::time_point t) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

std::string newAuditId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// "127.0.0.1:5555" → "127.0.0.1", "[::1]:5555" → "::1".
std::string sourceIp(const std::string& address) {
  if (address.starts_with("[")) {
    auto end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  auto colon = address.rfind(':');
  if (colon != std::string::npos && address.find(':') == colon) return address.substr(0, colon);
  return address;
}

json::object userJson(const http::UserInfo& u) {
  json::object o{{"username", u.name}};
  if (!u.uid.empty()) o["uid"] = u.uid;
  json::array groups;
  for (const auto& g : u.groups) groups.push_back(json::string(g));
  o["groups"] = std::move(groups);
  if (!u.extra.empty()) {
    json::object extra;
    for (const auto& [k, vs] : u.extra) {
      json::array a;
      for (const auto& v : vs) a.push_back(json::string(v));
      extra[k] = std::move(a);
    }
    o["extra"] = std::move(extra);
  }
  return o;
}

void dropManagedFields(json::value& v) {
  if (!v.is_object()) return;
  if (auto* m = v.as_object().if_contains("metadata"); m && m->is_object())
    m->as_object().erase("managedFields");
  if (auto* items = v.as_object().if_contains("items"); items && items->is_array())
    for (auto& item : items->as_array()) dropManagedFields(item);
}

// The writer in front of the handler: the Audit-Id header, the status code, the body when the
// level keeps it, and the ResponseStarted stage of long-running requests.
class AuditWriter final : public http::ResponseWriter {
 public:
  // `onDetach()` gives what must run when a detached stream (a watch) ends: the ResponseComplete
  // stage, which would otherwise be written when the handler returns.
  AuditWriter(http::ResponseWriter& inner, bool keepBody, std::function<void()> onStreamStart,
              std::function<std::function<void()>()> onDetach)
      : inner_(inner),
        keepBody_(keepBody),
        onStreamStart_(std::move(onStreamStart)),
        onDetach_(std::move(onDetach)) {}
  int status() const { return status_ == 0 ? 500 : status_; }
  bool detached() const { return detached_; }
  const std::string& body() const { return body_; }
  const std::string& contentType() const { return contentType_; }
  bool streamed() const { return streamed_; }

  void addHeader(std::string_view name, std::string_view value) override {
    inner_.addHeader(name, value);
  }
  void send(int status, std::string_view contentType, std::string_view body) override {
    if (status_ == 0) status_ = status;
    contentType_ = contentType;
    if (keepBody_ || status >= 400) body_ = body;
    inner_.send(status, contentType, body);
  }
  bool beginStream(int status, std::string_view contentType) override {
    if (status_ == 0) status_ = status;
    contentType_ = contentType;
    streamed_ = true;
    if (onStreamStart_) onStreamStart_();
    return inner_.beginStream(status, contentType);
  }
  bool writeChunk(std::string_view data) override { return inner_.writeChunk(data); }
  void endStream() override { inner_.endStream(); }
  bool clientConnected() override { return inner_.clientConnected(); }
  http::RawStream* switchProtocols() override {
    http::RawStream* raw = inner_.switchProtocols();
    if (raw != nullptr && status_ == 0) {
      status_ = 101;
      streamed_ = true;
      if (onStreamStart_) onStreamStart_();
    }
    return raw;
  }
  std::shared_ptr<http::StreamWaker> detachStream(
      std::shared_ptr<http::StreamSource> source) override {
    auto waker = inner_.detachStream(http::withCloseHook(std::move(source), onDetach_()));
    if (waker) detached_ = true;
    return waker;
  }

 private:
  http::ResponseWriter& inner_;
  bool keepBody_;
  std::function<void()> onStreamStart_;
  std::function<std::function<void()>()> onDetach_;
  bool detached_ = false;
  int status_ = 0;
  std::string body_;
  std::string contentType_;
  bool streamed_ = false;
};

}  // namespace

AuditPolicy::Decision AuditPolicy::decide(const http::UserInfo& user,
                                          const RequestInfo& info) const {
  for (const auto& r : rules) {
    if (!ruleMatches(r, user, info)) continue;
    return {r.level, r.omitStages ? *r.omitStages : omitStages};
  }
  return {AuditLevel::kNone, omitStages};
}

Result<AuditPolicy> parseAuditPolicy(std::string_view text) {
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (!doc.IsMap() || !doc["kind"] || doc["kind"].as<std::string>() != "Policy")
      return Status::badRequest("audit policy: kind must be Policy (audit.k8s.io/v1)");
    std::string apiVersion = doc["apiVersion"] ? doc["apiVersion"].as<std::string>() : "";
    if (apiVersion != "audit.k8s.io/v1")
      return Status::badRequest("audit policy: apiVersion must be audit.k8s.io/v1, not \"" +
                                apiVersion + "\"");
    AuditPolicy p;
    p.omitStages = strings(doc["omitStages"]);
    if (auto st = checkStages(p.omitStages); !st.ok()) return st;
    p.omitManagedFields = doc["omitManagedFields"] && doc["omitManagedFields"].as<bool>();
    YAML::Node rules = doc["rules"];
    if (!rules || !rules.IsSequence() || rules.size() == 0)
      return Status::badRequest("audit policy: rules: at least one rule is required");
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node& n = rules[i];
      AuditPolicyRule r;
      if (!n["level"])
        return Status::badRequest("audit policy: rules[" + std::to_string(i) +
                                  "].level is required");
      auto level = parseLevel(n["level"].as<std::string>());
      if (!level.ok()) return level.status();
      r.level = *level;
      r.users = strings(n["users"]);
      r.userGroups = strings(n["userGroups"]);
      r.verbs = strings(n["verbs"]);
      r.namespaces = strings(n["namespaces"]);
      r.nonResourceURLs = strings(n["nonResourceURLs"]);
      if (n["omitStages"]) {
        r.omitStages = strings(n["omitStages"]);
        if (auto st = checkStages(*r.omitStages); !st.ok()) return st;
      }
      if (n["resources"]) {
        for (const auto& gr : n["resources"]) {
          AuditPolicyRule::GroupResources g;
          g.group = gr["group"] ? gr["group"].as<std::string>() : "";
          g.resources = strings(gr["resources"]);
          g.resourceNames = strings(gr["resourceNames"]);
          r.resources.push_back(std::move(g));
        }
      }
      if (!r.nonResourceURLs.empty() && (!r.resources.empty() || !r.namespaces.empty()))
        return Status::badRequest("audit policy: rules[" + std::to_string(i) +
                                  "]: nonResourceURLs cannot be combined with resources or "
                                  "namespaces");
      p.rules.push_back(std::move(r));
    }
    return p;
  } catch (const std::exception& e) {
    return Status::badRequest(std::string("audit policy: ") + e.what());
  }
}

Result<AuditPolicy> loadAuditPolicy(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::badRequest("cannot read audit policy file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseAuditPolicy(ss.str());
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(AuditLogOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  if (log->o_.path != "-") {
    if (auto st = log->reopen(); !st.ok()) return st;
  }
  return log;
}

Status AuditLog::reopen() {
  fs::path p(o_.path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  out_.close();
  out_.clear();
  out_.open(o_.path, std::ios::app | std::ios::binary);
  if (!out_) return Status::internal("cannot open audit log " + o_.path);
  ::chmod(o_.path.c_str(), 0600);
  size_ = fs::file_size(p, ec);
  if (ec) size_ = 0;
  return {};
}

void AuditLog::rotate() {
  fs::path p(o_.path);
  std::string stem = p.stem().string(), ext = p.extension().string();
  auto now = std::chrono::system_clock::now();
  std::string ts = timestamp(now);  // 2026-11-29T11:20:00.123456Z → file-name safe below
  std::replace(ts.begin(), ts.end(), ':', '-');
  ts.pop_back();
  fs::path backup = p.parent_path() / (stem + "-" + ts + ext);
  std::error_code ec;
  out_.close();
  fs::rename(p, backup, ec);
  // Old backups: by age, then by count (newest kept).
  std::vector<fs::directory_entry> backups;
  for (const auto& e : fs::directory_iterator(p.parent_path().empty() ? "." : p.parent_path(), ec))
    if (e.path().filename().string().starts_with(stem + "-") && e.path().extension() == ext)
      backups.push_back(e);
  std::sort(backups.begin(), backups.end(),
            [](const auto& a, const auto& b) { return a.path().filename() > b.path().filename(); });
  auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * o_.maxAgeDays;
  for (size_t i = 0; i < backups.size(); ++i) {
    bool tooMany = o_.maxBackups > 0 && i >= static_cast<size_t>(o_.maxBackups);
    bool tooOld = o_.maxAgeDays > 0 && backups[i].last_write_time(ec) < cutoff;
    if (tooMany || tooOld) fs::remove(backups[i].path(), ec);
  }
  (void)reopen();
}

void AuditLog::write(const std::string& line) {
  std::lock_guard lock(mu_);
  if (o_.path == "-") {
    std::cout << line << '\n' << std::flush;
    return;
  }
  uint64_t limit = static_cast<uint64_t>(o_.maxSizeMB) * 1024 * 1024;
  if (o_.maxSizeMB > 0 && size_ > 0 && size_ + line.size() + 1 > limit) rotate();
  out_ << line << '\n';
  out_.flush();
  size_ += line.size() + 1;
}

void Auditor::handle(http::Request& request, http::ResponseWriter& writer,
                     const http::Handler& next) {
  std::string auditId = newAuditId();
  writer.addHeader("Audit-Id", auditId);
  RequestInfo info = requestInfoFor(request);
  http::UserInfo authenticated = request.user.anonymous() ? anonymousUser() : request.user;
  auto decision = policy_.decide(authenticated, info);
  if (decision.level == AuditLevel::kNone) {
    next(request, writer);
    return;
  }
  auto received = std::chrono::system_clock::now();
  json::object event{{"kind", "Event"},
                     {"apiVersion", "audit.k8s.io/v1"},
                     {"level", levelName(decision.level)},
                     {"auditID", auditId},
                     {"requestURI", request.rawTarget},
                     {"verb", info.verb},
                     {"user", userJson(authenticated)},
                     {"sourceIPs", json::array{json::string(sourceIp(request.remoteAddress))}},
                     {"userAgent", request.header("user-agent")},
                     {"requestReceivedTimestamp", timestamp(received)}};
  if (info.isResourceRequest) {
    json::object ref;
    if (!info.resource.empty()) ref["resource"] = info.resource;
    if (!info.namespace_.empty()) ref["namespace"] = info.namespace_;
    if (!info.name.empty()) ref["name"] = info.name;
    if (!info.group.empty()) ref["apiGroup"] = info.group;
    if (!info.version.empty()) ref["apiVersion"] = info.version;
    if (!info.subresource.empty()) ref["subresource"] = info.subresource;
    event["objectRef"] = std::move(ref);
  }
  if (!request.body.empty() && info.isResourceRequest && info.name.empty() &&
      request.method == "POST") {
    // A create names its object in the body (upstream's audit fills objectRef.name from it).
    if (auto body = decodeBody(request); body.ok() && body->is_object()) {
      if (const auto* meta = core::objectField(body->as_object(), "metadata")) {
        std::string name = core::stringField(*meta, "name");
        if (!name.empty()) event["objectRef"].as_object()["name"] = name;
      }
    }
  }
  if (decision.level >= AuditLevel::kRequest && !request.body.empty()) {
    if (auto body = decodeBody(request); body.ok()) {
      if (policy_.omitManagedFields) dropManagedFields(*body);
      event["requestObject"] = std::move(*body);
    }
  }
  auto emit = [&](const char* stage) {
    if (contains(decision.omitStages, stage)) return;
    event["stage"] = stage;
    event["stageTimestamp"] = timestamp(std::chrono::system_clock::now());
    log_->write(json::serialize(event));
  };
  emit("RequestReceived");
  // A detached stream's request: the event as it stands when the handler returned, completed
  // when the stream ends (the handler's locals are gone by then).
  AuditWriter* writerPtr = nullptr;
  auto onDetach = [&]() -> std::function<void()> {
    json::object last = event;
    if (request.user.name != authenticated.name && !request.user.anonymous())
      last["impersonatedUser"] = userJson(request.user);
    last["responseStatus"] =
        json::object{{"metadata", json::object()}, {"code", writerPtr->status()}};
    if (!request.auditAnnotations.empty()) {
      json::object annotations;
      for (const auto& [k, v] : request.auditAnnotations) annotations[k] = v;
      last["annotations"] = std::move(annotations);
    }
    if (contains(decision.omitStages, "ResponseComplete")) return [] {};
    return [this, last = std::move(last)]() mutable {
      last["stage"] = "ResponseComplete";
      last["stageTimestamp"] = timestamp(std::chrono::system_clock::now());
      log_->write(json::serialize(last));
    };
  };
  AuditWriter recorder(
      writer, decision.level == AuditLevel::kRequestResponse && !info.longRunning,
      [&] {
        if (info.longRunning) {
          event["responseStatus"] = json::object{{"metadata", json::object()}, {"code", 200}};
          emit("ResponseStarted");
        }
      },
      onDetach);
  writerPtr = &recorder;
  try {
    next(request, recorder);
  } catch (...) {
    event["responseStatus"] = json::object{{"metadata", json::object()}, {"code", 500}};
    emit("Panic");
    throw;
  }
  if (recorder.detached()) return;  // ResponseComplete comes when the stream ends
  if (request.user.name != authenticated.name && !request.user.anonymous())
    event["impersonatedUser"] = userJson(request.user);
  json::object status{{"metadata", json::object()}, {"code", recorder.status()}};
  bool keepAnswer = decision.level == AuditLevel::kRequestResponse;
  if ((recorder.status() >= 400 || keepAnswer) && !recorder.body().empty()) {
    // The answer as sent (JSON, YAML or protobuf), read back the way request bodies are.
    http::Request answer;
    answer.headers["content-type"] = recorder.contentType();
    answer.body = recorder.body();
    if (auto parsed = decodeBody(answer); parsed.ok() && parsed->is_object()) {
      const auto& o = parsed->as_object();
      if (recorder.status() >= 400 && core::stringField(o, "kind") == "Status") {
        for (const char* k : {"status", "message", "reason"})
          if (auto* v = o.if_contains(k)) status[k] = *v;
      }
      if (keepAnswer) {
        if (policy_.omitManagedFields) dropManagedFields(*parsed);
        event["responseObject"] = std::move(*parsed);
      }
    }
  }
  event["responseStatus"] = std::move(status);
  if (!request.auditAnnotations.empty()) {
    json::object annotations;
    for (const auto& [k, v] : request.auditAnnotations) annotations[k] = v;
    event["annotations"] = std::move(annotations);
  }
  emit("ResponseComplete");
}

}  // namespace berth::apiserver
