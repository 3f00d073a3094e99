#pragma once
// Admission: the plugins every write passes after authorization, in upstream's order — all
// mutating phases (admit) first, then all validating phases (validate). The registry calls the
// chain (Registry::setAdmission):
//   create: defaults → admit → defaults again → prepare/validate → validate(plugins) → persist
//   update: the same, with oldObject set; delete: validate(plugins) only, with oldObject set.
// Objects are in their storage version (for built-in kinds that is the served v1 shape).
//
// Thread-safety: the chain is built once before the server starts and then only read; plugins
// are called concurrently from request threads and must be safe for that.
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/kinds/strategy.h"
#include "core/resources.h"
#include "core/status.h"

namespace berth::apiserver::admission {

enum class Operation { kCreate, kUpdate, kDelete, kConnect };
std::string_view operationName(Operation op);  // "CREATE", "UPDATE", "DELETE", "CONNECT"

struct Attributes {
  Operation operation = Operation::kCreate;
  const core::ResourceType* resource = nullptr;  // the storage resource (never null)
  std::string ns;
  std::string name;
  std::string subresource;                       // "", "status", "scale", "binding", ...
  core::kinds::Requester user;
  boost::json::object* object = nullptr;         // mutable in admit(); null on delete
  const boost::json::object* oldObject = nullptr;  // update and delete
  bool dryRun = false;
  std::vector<std::string>* warnings = nullptr;  // "Warning:" lines for the client; may be null
  // The request's audit event annotations (upstream's AddAnnotation); may be null.
  std::map<std::string, std::string>* auditAnnotations = nullptr;
  void warn(std::string message) const {
    if (warnings) warnings->push_back(std::move(message));
  }
  void annotate(const std::string& key, std::string value) const {
    if (auditAnnotations) (*auditAnnotations)[key] = std::move(value);
  }
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;
  // Mutating phase: may change *a.object. An error status rejects the request as is (use
  // upstream's codes: 403 Forbidden for policy, 422 Invalid for bad fields).
  virtual core::Status admit(Attributes& a) { (void)a; return {}; }
  // Validating phase: sees the final object, may not change it.
  virtual core::Status validate(const Attributes& a) { (void)a; return {}; }
};

class Chain {
 public:
  void add(std::unique_ptr<Plugin> plugin) { plugins_.push_back(std::move(plugin)); }
  bool empty() const { return plugins_.empty(); }
  // First error wins.
  core::Status admit(Attributes& a) const;
  core::Status validate(const Attributes& a) const;

 private:
  std::vector<std::unique_ptr<Plugin>> plugins_;
};

}  // namespace berth::apiserver::admission
