#pragma once
// The admission.k8s.io/v1 AdmissionReview exchanged with a webhook: the request the API server
// sends (uid, kind, resource, subResource, requestKind, requestResource, name, namespace,
// operation, userInfo, object, oldObject, dryRun, options) and what it makes of the response
// (allowed, status, a base64 JSONPatch, warnings), with upstream's denial message
// `admission webhook "name" denied the request: <message>` and its code (the response's
// status.code when it is at least 400, else 400).
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/admission/admission.h"
#include "core/result.h"

namespace berth::apiserver::admission {

boost::json::object buildAdmissionReview(const Attributes& a, const std::string& uid);

// The AdmissionRequest without object and oldObject, every field present (empty when unset):
// the `request` variable of matchConditions, where unset fields read as zero values.
boost::json::object admissionRequestForCel(const Attributes& a);

struct ReviewOutcome {
  bool allowed = false;
  core::Status denial;                      // set when !allowed
  std::optional<boost::json::value> patch;  // decoded JSONPatch operations
  std::vector<std::string> warnings;
};

// An error status means the webhook answered something unusable (a call failure, subject to
// the webhook's failurePolicy).
core::Result<ReviewOutcome> parseAdmissionReview(std::string_view body, const std::string& uid,
                                                 const std::string& webhookName);

}  // namespace berth::apiserver::admission
