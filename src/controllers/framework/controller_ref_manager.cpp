#include "controllers/framework/controller_ref_manager.h"

#include <boost/json.hpp>

#include "controllers/framework/object_util.h"

namespace berth::controllers {

namespace json = boost::json;

ControllerRefManager::ControllerRefManager(client::RestClient& client,
                                           client::Resource ownerResource, const json::value& owner,
                                           std::string apiVersion, std::string kind,
                                           core::LabelSelector selector)
    : client_(client),
      ownerResource_(std::move(ownerResource)),
      owner_(owner),
      apiVersion_(std::move(apiVersion)),
      kind_(std::move(kind)),
      selector_(std::move(selector)) {}

std::string ControllerRefManager::adoptPatch(const json::value& ownerRef, std::string_view childUid,
                                             const std::vector<std::string>& finalizers) {
  json::object meta{{"ownerReferences", json::array{ownerRef}}, {"uid", childUid}};
  if (!finalizers.empty()) meta["finalizers"] = json::value_from(finalizers);
  return json::serialize(json::object{{"metadata", std::move(meta)}});
}

std::string ControllerRefManager::releasePatch(std::string_view ownerUid, std::string_view childUid,
                                               const std::vector<std::string>& finalizers) {
  json::object ref{{"$patch", "delete"}, {"uid", ownerUid}};
  json::object meta{{"ownerReferences", json::array{std::move(ref)}}, {"uid", childUid}};
  if (!finalizers.empty())
    meta["$deleteFromPrimitiveList/finalizers"] = json::value_from(finalizers);
  return json::serialize(json::object{{"metadata", std::move(meta)}});
}

core::Status ControllerRefManager::canAdopt() {
  if (adoptable_) return *adoptable_;
  std::string ns = stringAt(owner_, {"metadata", "namespace"});
  std::string name = stringAt(owner_, {"metadata", "name"});
  auto fresh = client_.get(ownerResource_, ns, name);
  if (!fresh.ok()) {
    adoptable_ = fresh.status();
  } else if (uidOf(*fresh) != uidOf(owner_)) {
    adoptable_ =
        core::Status::conflict(ownerResource_.resource, name,
                               "original " + kind_ + " " + ns + "/" + name + " is gone: got uid " +
                                   uidOf(*fresh) + ", wanted " + uidOf(owner_));
  } else if (isBeingDeleted(*fresh)) {
    adoptable_ =
        core::Status::conflict(ownerResource_.resource, name,
                               kind_ + " " + ns + "/" + name + " has just been deleted at " +
                                   stringAt(*fresh, {"metadata", "deletionTimestamp"}));
  } else {
    adoptable_ = core::Status();
  }
  return *adoptable_;
}

std::vector<client::ObjectPtr> ControllerRefManager::claim(
    const client::Resource& childResource, const std::vector<client::ObjectPtr>& candidates,
    core::Status& error) {
  std::vector<client::ObjectPtr> claimed;
  const std::string ownerUid = uidOf(owner_);
  const std::string ownerNs = stringAt(owner_, {"metadata", "namespace"});
  const bool ownerDeleting = isBeingDeleted(owner_);
  auto keep = [&](const core::Status& st) {
    if (!st.ok() && !st.isNotFound() && error.ok()) error = st;
  };
  for (const auto& obj : candidates) {
    const bool matches = selector_.matches(labelsOfObject(*obj)) && (!filter_ || filter_(*obj));
    const std::string ns = stringAt(*obj, {"metadata", "namespace"});
    const std::string name = stringAt(*obj, {"metadata", "name"});
    if (auto ref = controllerOf(*obj)) {
      if (ref->uid != ownerUid) continue;  // someone else's
      if (matches) {
        claimed.push_back(obj);
        continue;
      }
      if (ownerDeleting) continue;
      auto r = client_.patch(childResource, ns, name, client::PatchType::kStrategicMerge,
                             releasePatch(ownerUid, uidOf(*obj), finalizers_));
      if (!r.ok()) keep(r.status());
      continue;
    }
    // An orphan.
    if (ownerDeleting || !matches || isBeingDeleted(*obj) || ns != ownerNs) continue;
    if (core::Status st = canAdopt(); !st.ok()) {
      keep(st);
      continue;
    }
    auto r = client_.patch(
        childResource, ns, name, client::PatchType::kStrategicMerge,
        adoptPatch(newControllerRef(owner_, apiVersion_, kind_), uidOf(*obj), finalizers_));
    if (r.ok()) {
      claimed.push_back(std::make_shared<const json::value>(std::move(r.value())));
    } else {
      keep(r.status());
    }
  }
  return claimed;
}

std::vector<client::ObjectPtr> ownersSelecting(const client::Lister& owners,
                                               const json::value& child,
                                               const SelectorOf& selectorOf) {
  std::vector<client::ObjectPtr> out;
  auto labels = labelsOfObject(child);
  for (const auto& owner : owners.list(stringAt(child, {"metadata", "namespace"}))) {
    auto sel = selectorOf(*owner);
    if (sel.ok() && !sel->empty() && sel->matches(labels)) out.push_back(owner);
  }
  return out;
}

std::vector<client::ObjectPtr> ownersSelecting(const client::Lister& owners,
                                               const json::value& child) {
  return ownersSelecting(owners, child, [](const json::value& owner) {
    const json::value* sel = valueAt(owner, {"spec", "selector"});
    if (!sel || !sel->is_object()) return core::Result<core::LabelSelector>(core::LabelSelector());
    return core::LabelSelector::fromJson(sel->get_object());
  });
}

}  // namespace berth::controllers
