#pragma once
// Behaviour of a resource defined at runtime (a CustomResourceDefinition's version, or the
// CustomResourceDefinition kind itself), attached to its core::ResourceType. The generic paths
// (strategy entry points in core/kinds/strategy.h, printers, OpenAPI, scale) consult it where
// built-in kinds use their per-kind code, so a runtime kind comes in through the same door.
//
// Thread-safety: implementations are immutable after construction; every method is const and may
// run concurrently.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace berth::core {

struct ResourceType;

// One additionalPrinterColumn of a CRD version.
struct PrinterColumn {
  std::string name;
  std::string type;  // integer | number | string | boolean | date
  std::string format;
  std::string description;
  int priority = 0;
  std::string jsonPath;  // simple JSONPath: ".spec.replicas"
};

// The scale subresource of a CRD version: JSON paths (".spec.replicas").
struct ScalePaths {
  std::string specReplicasPath;
  std::string statusReplicasPath;
  std::string labelSelectorPath;  // may be empty
};

class ResourceBehavior {
 public:
  virtual ~ResourceBehavior() = default;

  // Strategy hooks, run after the generic ones of core/kinds/strategy.h (see there for order).
  // convertToStorage sees the object in `rt`'s version; the others the storage version.
  // convertFromStorage takes an object as stored (in the storage version, or in an older one it
  // was written in) to `rt`'s version. Conversion may call out (a CRD's conversion webhook) and
  // so may fail; the error is the request's answer.
  virtual Status convertToStorage(const ResourceType& rt, boost::json::object& obj) const = 0;
  virtual Status convertFromStorage(const ResourceType& rt, boost::json::object& obj) const = 0;
  // Many stored objects to `rt`'s version at once: a conversion webhook gets one review for a
  // whole list, as upstream sends it. Default: one by one.
  virtual Status convertListFromStorage(const ResourceType& rt,
                                        const std::vector<boost::json::object*>& objs) const {
    for (boost::json::object* o : objs) {
      if (Status st = convertFromStorage(rt, *o); !st.ok()) return st;
    }
    return {};
  }
  // Whether conversion may block on the network (a watch converting events then gets a thread
  // of its own rather than the shared stream loop).
  virtual bool convertsRemotely() const { return false; }
  virtual void applyDefaults(boost::json::object& obj) const = 0;
  virtual std::vector<StatusCause> validate(const boost::json::object& obj,
                                            const boost::json::object* old) const = 0;
  // validate() that may also return warnings for the client ("Warning:" lines; a CRD's
  // ratcheted rule failures). `warnings` may be null.
  virtual std::vector<StatusCause> validate(const boost::json::object& obj,
                                            const boost::json::object* old,
                                            std::vector<std::string>* warnings) const {
    (void)warnings;
    return validate(obj, old);
  }
  virtual void prepareForCreate(boost::json::object& obj) const = 0;
  virtual void prepareForUpdate(boost::json::object& obj, const boost::json::object& old,
                                bool statusUpdate) const = 0;
  virtual bool tracksGeneration() const = 0;

  // Paths of fields the schema does not know ("spec.foo"), for fieldValidation=Strict|Warn.
  virtual std::vector<std::string> unknownFields(const boost::json::object& obj) const = 0;
  // The OpenAPI v3 schema of the kind (without metadata), or nullptr.
  virtual const boost::json::object* openapiSchema() const = 0;
  // Printer columns after Name; nullptr for the default table.
  virtual const std::vector<PrinterColumn>* printerColumns() const = 0;
  virtual const ScalePaths* scalePaths() const = 0;
  // Fields a field selector may use besides metadata.name/namespace, as JSON paths
  // (".spec.color"; the selector names them without the dot); nullptr for none.
  virtual const std::vector<std::string>* selectableFieldPaths() const { return nullptr; }
  // Strategic merge patch needs Go struct tags; custom resources answer 415 as upstream does.
  virtual bool supportsStrategicMerge() const = 0;
};

// A value at a simple JSON path (".spec.replicas", as CRDs name fields); nullptr when absent.
const boost::json::value* valueAtPath(const boost::json::object& obj, std::string_view path);
// Sets the value at a simple JSON path, creating (or replacing non-)objects on the way.
void setValueAtPath(boost::json::object& obj, std::string_view path, boost::json::value v);

}  // namespace berth::core
