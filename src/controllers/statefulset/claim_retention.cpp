#include "controllers/statefulset/claim_retention.h"

#include <algorithm>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::statefulset {

namespace json = boost::json;

namespace {

bool hasRef(const json::array& refs, const std::string& uid) {
  return std::any_of(refs.begin(), refs.end(), [&](const json::value& r) {
    return r.is_object() && strAt(r.get_object(), "uid") == uid;
  });
}

void setRef(json::array& refs, const json::value& owner, const char* apiVersion, const char* kind) {
  if (hasRef(refs, uidOf(owner))) return;
  refs.push_back(json::object{{"apiVersion", apiVersion},
                              {"kind", kind},
                              {"name", strAt(metaOf(owner), "name")},
                              {"uid", uidOf(owner)}});
}

void removeRef(json::array& refs, const std::string& uid) {
  if (uid.empty()) return;
  refs.erase(std::remove_if(refs.begin(), refs.end(),
                            [&](const json::value& r) {
                              return r.is_object() && strAt(r.get_object(), "uid") == uid;
                            }),
             refs.end());
}

}  // namespace

std::optional<json::array> retentionOwnerRefs(const json::value& claim, const json::value& set,
                                              const json::value* pod, bool scaledDown) {
  const json::object& policy = objAt(set, "spec", "persistentVolumeClaimRetentionPolicy");
  bool deleteWithSet = strAt(policy, "whenDeleted") == "Delete";
  bool deleteOnScale = strAt(policy, "whenScaled") == "Delete";
  json::array refs;
  if (const json::value* r = metaOf(claim).if_contains("ownerReferences"); r && r->is_array()) {
    refs = r->get_array();
  }
  const json::array before = refs;
  std::string podUid = pod ? uidOf(*pod) : std::string();
  if (scaledDown && deleteOnScale && pod) {
    removeRef(refs, uidOf(set));
    setRef(refs, *pod, "v1", "Pod");
  } else {
    if (deleteWithSet) {
      setRef(refs, set, "apps/v1", "StatefulSet");
    } else {
      removeRef(refs, uidOf(set));
    }
    removeRef(refs, podUid);
  }
  if (refs == before) return std::nullopt;
  return refs;
}

}  // namespace berth::controllers::statefulset
