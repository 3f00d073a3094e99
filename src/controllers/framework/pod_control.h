#pragma once
// PodControl: creating and deleting a controller's pods with expectations and events, as
// upstream's controller.RealPodControl plus the slow-start batching the ReplicaSet, DaemonSet
// and Job controllers share. Events go on the owner: SuccessfulCreate "Created pod: <name>",
// FailedCreate "Error creating: <message>", SuccessfulDelete "Deleted pod: <name>",
// FailedDelete "Error deleting: <message>".
//
// Thread-safety: as safe as the client, recorder and expectations it is given (all are).
#include <boost/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "client/event_recorder.h"
#include "client/indexer.h"
#include "client/rest_client.h"
#include "controllers/framework/workload_expectations.h"
#include "core/status.h"

namespace berth::controllers {

class PodControl {
 public:
  PodControl(client::RestClient& client, client::EventRecorder& recorder,
             ControllerExpectations& expectations)
      : client_(client), recorder_(recorder), expectations_(expectations) {}

  // Creates the pods in batches of 1, 2, 4, ...; a batch with a failure stops the rest (a quota
  // or admission refusal costs one call, not one per pod). Creation expectations for `key` are
  // raised by the count first and lowered for every create that fails or is never tried.
  // Returns how many were created; `err` keeps the first error.
  long long create(const boost::json::value& owner, const std::string& key,
                   const std::vector<boost::json::object>& pods, core::Status& err);

  // Deletes the pods, expecting each deletion (by pod key) first. `beforeDelete` may act on a
  // pod first (e.g. drop a finalizer); its error skips that pod. NotFound counts as deleted.
  // Returns how many are gone; `err` keeps the first error.
  long long remove(const boost::json::value& owner, const std::string& key,
                   const std::vector<client::ObjectPtr>& pods, core::Status& err,
                   const std::function<core::Status(const boost::json::value&)>& beforeDelete = {});

 private:
  client::RestClient& client_;
  client::EventRecorder& recorder_;
  ControllerExpectations& expectations_;
};

}  // namespace berth::controllers
