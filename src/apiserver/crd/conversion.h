#pragma once
// Conversion of custom objects between the versions of their CRD (upstream's
// apiextensions-apiserver/pkg/apiserver/conversion):
//  - strategy None: only apiVersion changes (upstream's nopConverter);
//  - strategy Webhook: the objects whose apiVersion is not the desired one are POSTed, all in
//    one apiextensions.k8s.io ConversionReview (v1 or v1beta1: the first of the CRD's
//    conversionReviewVersions we speak), to spec.conversion.webhook.clientConfig. The answer is
//    checked as upstream checks it (uid, result.status, count, apiVersion and kind of each
//    object, name/namespace/uid unchanged); of the metadata only labels and annotations may
//    change, the rest is restored from the original.
// A failure answers 500 with upstream's text, "conversion webhook for <group>/<version>,
// Kind=<Kind> failed: ..." and no reason (upstream returns a plain Go error, which its handler
// turns into a 500 Status of reason Unknown).
//
// Also: the validation of spec.conversion (upstream's validateCustomResourceConversion).
//
// Thread-safety: Converter is immutable after construction; convert() may run concurrently.
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/webhook/client.h"
#include "core/result.h"
#include "core/status.h"

namespace berth::apiserver::crd {

struct WebhookConversion {
  boost::json::object clientConfig;  // url | service, caBundle
  std::string reviewVersion;         // "v1" | "v1beta1"
  std::shared_ptr<webhook::Client> client;
};

class Converter {
 public:
  Converter() = default;  // None
  Converter(std::string kind, WebhookConversion webhook);

  bool isWebhook() const { return webhook_ != nullptr; }
  // Converts each object (in place) to `toApiVersion` ("group/version"). `isList` picks
  // upstream's messages for a list (item indexes) or a single object.
  core::Status convert(const std::vector<boost::json::object*>& objs,
                       const std::string& toApiVersion, bool isList) const;

 private:
  std::string kind_;
  std::shared_ptr<const WebhookConversion> webhook_;
};

// The ConversionReview sent for `objects` (reviewVersion "v1" or "v1beta1").
boost::json::object buildConversionReview(std::string_view reviewVersion, const std::string& uid,
                                          const std::string& desiredApiVersion,
                                          const std::vector<const boost::json::object*>& objects);

// Checks a webhook's answer to the review built above for `originals` and returns the
// converted objects (metadata restored but for labels and annotations). The error text is
// upstream's, after the "conversion webhook for <gvk> " prefix: "failed: expected
// response.uid=...", "returned 0 objects, expected 1", "returned invalid object at index 0:
// ...".
core::Result<std::vector<boost::json::object>> convertedObjects(
    std::string_view reviewVersion, std::string_view body, const std::string& uid,
    const std::vector<const boost::json::object*>& originals, const std::string& desiredApiVersion,
    bool isList);

// The first conversionReviewVersion the server speaks (v1, v1beta1), or "".
std::string pickReviewVersion(const boost::json::object& conversion);

// Field errors of spec.conversion (`spec` is the CRD's spec, `oldSpec` the stored one on an
// update), with upstream's paths: those of the internal type,
// spec.conversion.webhookClientConfig and spec.conversion.conversionReviewVersions.
std::vector<core::StatusCause> validateConversion(const boost::json::object& spec,
                                                  const boost::json::object* oldSpec);

}  // namespace berth::apiserver::crd
