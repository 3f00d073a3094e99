#include "controllers/certificates/certificates_controllers.h"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "controllers/certificates/csr_signer.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"
#include "core/base64.h"
#include "core/clock.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace certificates;

const client::Resource kCsrs{"certificates.k8s.io", "v1", "certificatesigningrequests", false};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string flag(const ControllerContext& ctx, const std::string& name) {
  auto it = ctx.flags.find(name);
  return it == ctx.flags.end() ? std::string() : it->second;
}

// status.conditions[type=...].status == "True"
bool hasCondition(const json::value& csr, std::string_view type) {
  const auto* conds = valueAt(csr, {"status", "conditions"});
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : conds->as_array())
    if (stringAt(c, {"type"}) == type && stringAt(c, {"status"}) != "False") return true;
  return false;
}

std::vector<std::string> strings(const json::value& obj,
                                 std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  if (const auto* a = valueAt(obj, path); a && a->is_array())
    for (const auto& v : a->as_array())
      if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

json::value withCondition(const json::value& csr, std::string type, std::string reason,
                          std::string message) {
  json::value out = csr;
  auto& o = out.as_object();
  if (!o["status"].is_object()) o["status"] = json::object();
  auto& status = o["status"].as_object();
  if (!status["conditions"].is_array()) status["conditions"] = json::array();
  std::string now = core::nowRfc3339();
  status["conditions"].as_array().push_back(json::object{{"type", std::move(type)},
                                                         {"status", "True"},
                                                         {"reason", std::move(reason)},
                                                         {"message", std::move(message)},
                                                         {"lastUpdateTime", now},
                                                         {"lastTransitionTime", now}});
  return out;
}

// Shared shape of both controllers: a CSR informer feeding a queue of names.
class CsrController : public Controller {
 public:
  CsrController(ControllerContext& ctx, const char* name)
      : client_(ctx.client),
        csrs_(ctx.informers.forResource(kCsrs)),
        workers_(name, ctx.metrics, [this](const std::string& k) { return syncKey(k); }) {
    auto enqueue = [this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
    csrs_.addEventHandler(client::onEveryChange(enqueue, false));
  }
  void run() override { workers_.start(1); }
  void stop() override { workers_.stop(); }

 protected:
  virtual core::Status sync(const json::value& csr) = 0;
  client::RestClient& client_;

 private:
  core::Status syncKey(const std::string& name) {
    ObjectPtr csr = csrs_.lister().get("", name);
    if (!csr || isBeingDeleted(*csr)) return {};
    return sync(*csr);
  }
  client::SharedInformer& csrs_;
  QueueWorkers workers_;
};

class CsrSigningController : public CsrController {
 public:
  explicit CsrSigningController(ControllerContext& ctx)
      : CsrController(ctx, "certificate"),
        caCert_(readFile(flag(ctx, "cluster-signing-cert-file"))),
        caKey_(readFile(flag(ctx, "cluster-signing-key-file"))) {}

 protected:
  core::Status sync(const json::value& csr) override {
    if (caCert_.empty() || caKey_.empty()) return {};
    if (!stringAt(csr, {"status", "certificate"}).empty()) return {};
    if (!hasCondition(csr, "Approved") || hasCondition(csr, "Denied") ||
        hasCondition(csr, "Failed"))
      return {};
    SigningRequest req;
    req.signerName = stringAt(csr, {"spec", "signerName"});
    if (!isClientSigner(req.signerName)) return {};
    auto pem = core::base64Decode(stringAt(csr, {"spec", "request"}));
    req.requestPem = pem ? *pem : std::string();
    req.usages = strings(csr, {"spec", "usages"});
    if (const auto* e = valueAt(csr, {"spec", "expirationSeconds"}); e && e->is_number())
      req.expirationSeconds = e->to_number<int64_t>();
    auto cert = signRequest(req, caCert_, caKey_);
    json::value updated;
    if (cert.ok()) {
      updated = csr;
      updated.as_object()["status"].as_object()["certificate"] = core::base64Encode(*cert);
    } else if (cert.status().code() == 400) {
      updated = withCondition(csr, "Failed", "SignerValidationFailure", cert.status().message());
    } else {
      return cert.status();
    }
    auto r = client_.updateStatus(kCsrs, "", updated);
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }

 private:
  const std::string caCert_;
  const std::string caKey_;
};

class CsrApprovingController : public CsrController {
 public:
  explicit CsrApprovingController(ControllerContext& ctx) : CsrController(ctx, "csrapproving") {}

 protected:
  core::Status sync(const json::value& csr) override {
    if (hasCondition(csr, "Approved") || hasCondition(csr, "Denied") ||
        !stringAt(csr, {"status", "certificate"}).empty())
      return {};
    if (stringAt(csr, {"spec", "signerName"}) != kKubeletClientSigner) return {};
    auto pem = core::base64Decode(stringAt(csr, {"spec", "request"}));
    auto subject = pem ? requestSubject(*pem) : std::nullopt;
    if (!subject || subject->organizations != std::vector<std::string>{"system:nodes"} ||
        subject->commonName.rfind("system:node:", 0) != 0)
      return {};
    std::string user = stringAt(csr, {"spec", "username"});
    auto groups = strings(csr, {"spec", "groups"});
    auto inGroup = [&](std::string_view g) {
      return std::find(groups.begin(), groups.end(), g) != groups.end();
    };
    bool bootstrap = inGroup("system:bootstrappers");
    bool selfRenewal = inGroup("system:nodes") && user == subject->commonName;
    if (!bootstrap && !selfRenewal) return {};
    auto approved = withCondition(csr, "Approved", "AutoApproved",
                                  "Auto approving kubelet client certificate after "
                                  "SubjectAccessReview.");
    auto r = client_.request("PUT", client::RestClient::path(kCsrs, "", keyOf(csr), "approval"),
                             json::serialize(approved), "application/json");
    return r.ok() || r.status().isNotFound() ? core::Status() : r.status();
  }
};

}  // namespace

std::unique_ptr<Controller> newCsrSigningController(ControllerContext& ctx) {
  return std::make_unique<CsrSigningController>(ctx);
}

std::unique_ptr<Controller> newCsrApprovingController(ControllerContext& ctx) {
  return std::make_unique<CsrApprovingController>(ctx);
}

}  // namespace berth::controllers
