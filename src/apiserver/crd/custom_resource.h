#pragma once
// The core::ResourceBehavior of one served version of a CustomResourceDefinition: objects are
// pruned and defaulted by the version's structural schema when they come in, validated by the
// schema and rules of the version the request came in (the registry converts the storage form
// back for that, as upstream validates before converting), converted between versions by the CRD's strategy (conversion.h: None
// changes only apiVersion; Webhook asks the CRD's conversion webhook, and what it answers is
// pruned and defaulted by the target version's schema, as upstream's schema coercion does), and
// printed with the version's additionalPrinterColumns.
//
// Thread-safety: immutable after construction.
#include <memory>
#include <string>
#include <vector>

#include "apiserver/crd/conversion.h"
#include "apiserver/crd/rules.h"
#include "apiserver/crd/schema.h"
#include "core/resource_behavior.h"

namespace berth::apiserver::crd {

struct VersionSpec {
  std::string group, version, kind;
  std::shared_ptr<const Schema> schema;        // null: no schema (preserve everything)
  std::shared_ptr<const RuleValidator> rules;  // x-kubernetes-validations; null: none
  boost::json::object openapi;                 // the raw openAPIV3Schema plus apiVersion/kind
  std::vector<core::PrinterColumn> columns;
  std::optional<core::ScalePaths> scale;
  bool statusSubresource = false;
  std::vector<std::string> selectableFields;  // JSON paths (".spec.color")
  Converter converter;                        // the CRD's conversion strategy
};

class CustomResourceBehavior : public core::ResourceBehavior {
 public:
  explicit CustomResourceBehavior(VersionSpec spec) : spec_(std::move(spec)) {}

  core::Status convertToStorage(const core::ResourceType& rt,
                                boost::json::object& obj) const override;
  core::Status convertFromStorage(const core::ResourceType& rt,
                                  boost::json::object& obj) const override;
  core::Status convertListFromStorage(const core::ResourceType& rt,
                                      const std::vector<boost::json::object*>& objs) const override;
  bool convertsRemotely() const override { return spec_.converter.isWebhook(); }
  void applyDefaults(boost::json::object& obj) const override;
  std::vector<core::StatusCause> validate(const boost::json::object& obj,
                                          const boost::json::object* old) const override {
    return validate(obj, old, nullptr);
  }
  // Rules failing on values that did not change are ratcheted into `warnings`, as upstream.
  std::vector<core::StatusCause> validate(const boost::json::object& obj,
                                          const boost::json::object* old,
                                          std::vector<std::string>* warnings) const override;
  void prepareForCreate(boost::json::object& obj) const override;
  void prepareForUpdate(boost::json::object& obj, const boost::json::object& old,
                        bool statusUpdate) const override;
  bool tracksGeneration() const override { return true; }
  std::vector<std::string> unknownFields(const boost::json::object& obj) const override;
  const boost::json::object* openapiSchema() const override { return &spec_.openapi; }
  const std::vector<core::PrinterColumn>* printerColumns() const override { return &spec_.columns; }
  const core::ScalePaths* scalePaths() const override {
    return spec_.scale ? &*spec_.scale : nullptr;
  }
  bool supportsStrategicMerge() const override { return false; }
  const std::vector<std::string>* selectableFieldPaths() const override {
    return &spec_.selectableFields;
  }

 private:
  // Prune, then default, by this version's schema.
  void normalize(boost::json::object& obj) const;
  // After conversion to this version: apiVersion and kind set, defaults applied (and, for what a
  // webhook answered, unknown fields pruned first).
  void finishFromStorage(const core::ResourceType& rt, boost::json::object& obj,
                         bool webhookConverted) const;

  VersionSpec spec_;
};

// The autoscaling/v1 Scale of a custom object (served version) by its CRD's scale paths.
boost::json::object scaleOf(const core::ScalePaths& paths, const boost::json::object& obj);
// A merge patch setting the replicas at the spec path.
boost::json::object replicasPatch(const core::ScalePaths& paths, int64_t replicas);

}  // namespace berth::apiserver::crd
