#pragma once
// ControllerRevision bookkeeping shared by the DaemonSet and StatefulSet controllers, as
// upstream's pkg/controller/history plus the two controllers' constructHistory/cleanupHistory:
// an owner's template is snapshotted as an immutable ControllerRevision (data = a patch that
// replaces spec.template), numbered by `revision`; the one whose data matches the current
// template is the current revision, and old ones beyond revisionHistoryLimit are deleted when
// no live pod uses them.
//
// Thread-safety: stateless free functions; the client is thread-safe.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "client/informer.h"
#include "client/rest_client.h"
#include "core/result.h"

namespace berth::controllers {

inline const client::Resource kControllerRevisions{"apps", "v1", "controllerrevisions", true};

// {"spec":{"template":{...,"$patch":"replace"}}}: what upstream stores as revision data.
boost::json::value templatePatch(const boost::json::value& owner);
long long revisionNumber(const boost::json::value& revision);
// Revisions in the owner's namespace whose controller reference is the owner.
std::vector<client::ObjectPtr> ownedRevisions(const client::Lister& revisions,
                                              const boost::json::value& owner);
// Whether a revision's data equals `data`.
bool revisionMatches(const boost::json::value& revision, const boost::json::value& data);

struct RevisionSpec {
  std::string name;
  boost::json::object labels;
  boost::json::value data;
  long long revision = 0;
};

// Creates the revision. When one of that name exists with the same data, returns it; with other
// data (a hash collision) returns a Conflict so the caller bumps status.collisionCount and retries.
core::Result<boost::json::value> createRevision(client::RestClient& client,
                                                const boost::json::value& owner,
                                                std::string_view ownerApiVersion,
                                                std::string_view ownerKind,
                                                const RevisionSpec& spec);

// Sets a revision's number (an old template became current again).
core::Result<boost::json::value> renumberRevision(client::RestClient& client,
                                                  const boost::json::value& revision,
                                                  long long number);

// Deletes the `count` oldest revisions of `candidates` (the caller has left out the current one
// and those live pods still use). Returns the first error.
core::Status pruneRevisions(client::RestClient& client, std::vector<client::ObjectPtr> candidates,
                            long long count);

}  // namespace berth::controllers
