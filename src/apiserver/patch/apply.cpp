// Server-side apply and managedFields bookkeeping; a simplified structured-merge-diff.
#include "apiserver/patch/apply.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "apiserver/patch/created_fields.h"
#include "apiserver/patch/fieldset.h"
#include "apiserver/patch/list_types.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;
using core::Status;
using internal::FieldPath;
using internal::FieldSet;
using internal::jsonEqual;
using internal::ListType;

struct ManagerEntry {
  std::string manager;
  std::string operation;  // "Apply" | "Update"
  std::string apiVersion;
  std::string time;
  std::string subresource;
  FieldSet fields;
};

// Upstream's manager identifier: apiVersion counts only for Update entries.
bool sameManager(const ManagerEntry& e, std::string_view manager, std::string_view operation,
                 std::string_view apiVersion, std::string_view subresource) {
  return e.manager == manager && e.operation == operation && e.subresource == subresource &&
         (operation == "Apply" || e.apiVersion == apiVersion);
}

std::string stringOf(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

json::object* metadataOf(json::object& obj) {
  auto it = obj.find("metadata");
  return it != obj.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}
const json::object* metadataOf(const json::object& obj) {
  auto it = obj.find("metadata");
  return it != obj.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

// nullptr when the object has no managedFields key (or it is null).
const json::array* managedFieldsOf(const json::object& obj) {
  const json::object* meta = metadataOf(obj);
  if (!meta) return nullptr;
  auto it = meta->find("managedFields");
  return it != meta->end() && it->value().is_array() ? &it->value().get_array() : nullptr;
}

std::vector<ManagerEntry> decodeEntries(const json::array* entries) {
  std::vector<ManagerEntry> out;
  if (!entries) return out;
  for (const auto& e : *entries) {
    if (!e.is_object()) continue;
    const auto& o = e.get_object();
    ManagerEntry entry{stringOf(o, "manager"),     stringOf(o, "operation"),
                       stringOf(o, "apiVersion"),  stringOf(o, "time"),
                       stringOf(o, "subresource"), FieldSet()};
    if (auto f = o.find("fieldsV1"); f != o.end())
      entry.fields = FieldSet::fromFieldsV1(f->value());
    // Entries of one manager identity are merged into one, as upstream keeps them.
    auto same = std::find_if(out.begin(), out.end(), [&](const ManagerEntry& e) {
      return sameManager(e, entry.manager, entry.operation, entry.apiVersion, entry.subresource);
    });
    if (same != out.end()) {
      same->fields.merge(entry.fields);
      same->time = std::max(same->time, entry.time);
      continue;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// One managedFields entry, its keys in upstream's order.
json::object entryJson(std::string_view manager, std::string_view operation,
                       std::string_view apiVersion, std::string_view time,
                       std::string_view subresource, json::object fieldsV1) {
  json::object o;
  o["manager"] = manager;
  o["operation"] = operation;
  o["apiVersion"] = apiVersion;
  if (!time.empty()) o["time"] = time;
  o["fieldsType"] = "FieldsV1";
  o["fieldsV1"] = std::move(fieldsV1);
  if (!subresource.empty()) o["subresource"] = subresource;
  return o;
}

// Stores the entries (or removes the key when there are none).
void setManagedFields(json::object& obj, json::array out) {
  json::object* meta = metadataOf(obj);
  if (!meta) {
    if (out.empty()) return;
    obj["metadata"] = json::object();
    meta = metadataOf(obj);
  }
  if (out.empty()) {
    meta->erase("managedFields");
  } else {
    (*meta)["managedFields"] = std::move(out);
  }
}

// Drops empty entries, sorts as upstream's sortEncodedManagedFields (operation, time, manager,
// apiVersion, subresource) and stores them (or removes the key when none are left).
void encodeEntries(json::object& obj, std::vector<ManagerEntry> entries) {
  std::erase_if(entries, [](const ManagerEntry& e) { return e.fields.empty(); });
  std::stable_sort(entries.begin(), entries.end(),
                   [](const ManagerEntry& a, const ManagerEntry& b) {
                     return std::tie(a.operation, a.time, a.manager, a.apiVersion, a.subresource) <
                            std::tie(b.operation, b.time, b.manager, b.apiVersion, b.subresource);
                   });
  json::array out;
  for (const auto& e : entries)
    out.push_back(entryJson(e.manager, e.operation, e.apiVersion, e.time, e.subresource,
                            e.fields.toFieldsV1()));
  setManagedFields(obj, std::move(out));
}

bool resetsStatus(const core::ResourceType& rt) { return rt.hasSubresource("status"); }

// The fields whose ownership is tracked: upstream's strip set removed, and status or everything
// but status removed depending on the subresource.
FieldSet trackedFields(const json::object& obj, const core::ResourceType& rt,
                       std::string_view subresource) {
  FieldSet set = FieldSet::fromObject(obj, rt);
  set.dropChild("f:apiVersion");
  set.dropChild("f:kind");
  if (FieldSet* meta = set.child("f:metadata")) {
    for (const char* f : {"f:name", "f:namespace", "f:creationTimestamp", "f:selfLink", "f:uid",
                          "f:clusterName", "f:generation", "f:managedFields", "f:resourceVersion",
                          "f:deletionTimestamp", "f:deletionGracePeriodSeconds"}) {
      meta->dropChild(f);
    }
    meta->erase({});
    if (meta->empty()) set.dropChild("f:metadata");
  }
  if (subresource == "status") {
    set.keepOnlyChild("f:status");
  } else if (resetsStatus(rt)) {
    set.dropChild("f:status");
  }
  return set;
}

// The applied configuration without what apply never writes.
json::object sanitizeApplied(const json::object& applied, const core::ResourceType& rt,
                             std::string_view subresource) {
  json::object config = applied;
  if (json::object* meta = metadataOf(config)) {
    for (const char* f :
         {"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink",
          "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      meta->erase(f);
    }
  }
  if (subresource != "status" && resetsStatus(rt)) config.erase("status");
  return config;
}

// live ← live merged with config: config's values win, maps merge, keyed lists merge by key,
// set lists union, other lists are replaced; null in config deletes.
void mergeApplied(json::value& live, const json::value& config, std::vector<std::string>& names,
                  const core::ResourceType& rt) {
  if (config.is_object() && live.is_object()) {
    auto& out = live.get_object();
    for (const auto& [k, v] : config.get_object()) {
      if (v.is_null()) {
        out.erase(k);
        continue;
      }
      auto it = out.find(k);
      if (it == out.end()) {
        out[k] = v;
        continue;
      }
      names.emplace_back(k);
      mergeApplied(it->value(), v, names, rt);
      names.pop_back();
    }
    return;
  }
  if (config.is_array() && live.is_array()) {
    ListType lt = internal::listTypeOf(rt, names);
    auto& out = live.get_array();
    const auto& in = config.get_array();
    auto keyOf = [&](const json::value& item) -> const json::value* {
      if (!item.is_object()) return nullptr;
      auto it = item.get_object().find(lt.key);
      return it == item.get_object().end() ? nullptr : &it->value();
    };
    if (lt.kind == ListType::kMap &&
        std::all_of(in.begin(), in.end(), [&](const json::value& v) { return keyOf(v); }) &&
        std::all_of(out.begin(), out.end(), [&](const json::value& v) { return keyOf(v); })) {
      for (const auto& item : in) {
        auto match = std::find_if(out.begin(), out.end(), [&](const json::value& have) {
          return jsonEqual(*keyOf(have), *keyOf(item));
        });
        if (match == out.end()) {
          out.push_back(item);
        } else {
          mergeApplied(*match, item, names, rt);
        }
      }
      return;
    }
    if (lt.kind == ListType::kSet) {
      for (const auto& item : in) {
        if (std::none_of(out.begin(), out.end(),
                         [&](const json::value& have) { return jsonEqual(have, item); })) {
          out.push_back(item);
        }
      }
      return;
    }
  }
  live = config;
}

std::string describeManager(const ManagerEntry& e) {
  std::string out = json::serialize(json::value(e.manager));
  if (!e.subresource.empty()) {
    out += " with subresource " + json::serialize(json::value(e.subresource));
  }
  if (e.operation == "Update") out += " using " + e.apiVersion;
  return out;
}

struct Conflict {
  const ManagerEntry* entry;
  FieldPath path;
};

// upstream fieldmanager's getConflictMessage.
std::string conflictMessage(const std::vector<Conflict>& conflicts) {
  if (conflicts.size() == 1) {
    return "Apply failed with 1 conflict: conflict with " + describeManager(*conflicts[0].entry) +
           ": " + internal::pathString(conflicts[0].path);
  }
  std::map<std::string, std::vector<std::string>> byManager;
  for (const auto& c : conflicts) {
    byManager[describeManager(*c.entry)].push_back(internal::pathString(c.path));
  }
  std::string out = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
  bool first = true;
  for (const auto& [manager, paths] : byManager) {
    if (!first) out += "\n";
    first = false;
    out += "conflicts with " + manager + ":";
    for (const auto& p : paths) out += "\n- " + p;
  }
  return out;
}

}  // namespace

core::Result<json::object> serverSideApply(const json::object* live, const json::object& applied,
                                           const core::ResourceType& rt,
                                           const ApplyOptions& options,
                                           std::vector<core::StatusCause>* conflictCauses) {
  if (options.manager.empty()) {
    return Status::badRequest("fieldManager: Required value: is required for apply patch");
  }
  json::object config = sanitizeApplied(applied, rt, options.subresource);
  FieldSet appliedSet = trackedFields(config, rt, options.subresource);
  std::string apiVersion = rt.apiVersion();

  std::vector<ManagerEntry> entries = decodeEntries(live ? managedFieldsOf(*live) : nullptr);
  auto self = std::find_if(entries.begin(), entries.end(), [&](const ManagerEntry& e) {
    return sameManager(e, options.manager, "Apply", apiVersion, options.subresource);
  });
  const ManagerEntry* selfEntry = self == entries.end() ? nullptr : &*self;
  FieldSet previous = selfEntry ? selfEntry->fields : FieldSet();

  json::value merged;
  if (live) {
    merged = *live;
    std::vector<std::string> names;
    mergeApplied(merged, config, names, rt);
  } else {
    merged = config;
  }
  json::object& result = merged.get_object();

  // Conflicts: a leaf another manager owns whose live value the apply would change.
  std::vector<Conflict> conflicts;
  if (live) {
    std::vector<FieldPath> leaves;
    appliedSet.forEach([&](const FieldPath& p) {
      if (appliedSet.isLeaf(p)) leaves.push_back(p);
    });
    for (const auto& entry : entries) {
      if (&entry == selfEntry) continue;
      for (const auto& p : leaves) {
        if (!entry.fields.contains(p)) continue;
        const json::value* have = internal::valueAt(*live, p);
        const json::value* want = internal::valueAt(config, p);
        if (have && want && jsonEqual(*have, *want)) continue;
        conflicts.push_back({&entry, p});
      }
    }
  }
  if (!conflicts.empty() && !options.force) {
    if (conflictCauses) {
      conflictCauses->clear();
      for (const auto& c : conflicts) {
        conflictCauses->push_back({"FieldManagerConflict",
                                   "conflict with " + describeManager(*c.entry),
                                   internal::pathString(c.path)});
      }
    }
    return Status::generic(409, "Conflict", conflictMessage(conflicts));
  }
  std::vector<std::pair<size_t, FieldPath>> taken;
  for (const auto& c : conflicts) {
    taken.emplace_back(static_cast<size_t>(c.entry - entries.data()), c.path);
  }
  for (auto& [index, path] : taken) entries[index].fields.erase(path);

  // Fields this manager applied before but no longer does go away unless someone else owns them
  // (or, for a list item or map, anything below them).
  if (live && selfEntry) {
    std::vector<FieldPath> removed;
    previous.forEach([&](const FieldPath& p) {
      if (!appliedSet.contains(p)) removed.push_back(p);
    });
    for (auto it = removed.rbegin(); it != removed.rend(); ++it) {
      bool ownedElsewhere = false;
      for (const auto& entry : entries) {
        if (&entry == selfEntry) continue;
        if (entry.fields.containsAnyUnder(*it)) ownedElsewhere = true;
      }
      if (!ownedElsewhere && !appliedSet.containsAnyUnder(*it)) internal::removeAt(result, *it);
    }
  }

  if (self != entries.end()) {
    self->fields = std::move(appliedSet);
    self->time = options.time;
    self->apiVersion = apiVersion;
  } else {
    entries.push_back({options.manager, "Apply", apiVersion, options.time, options.subresource,
                       std::move(appliedSet)});
  }
  encodeEntries(result, std::move(entries));
  return std::move(result);
}

json::object statusJsonWithCauses(const core::Status& status,
                                  const std::vector<core::StatusCause>& causes) {
  json::object out = status.toJson();
  if (causes.empty()) return out;
  json::array cs;
  for (const auto& c : causes) {
    json::object co;
    if (!c.reason.empty()) co["reason"] = c.reason;
    if (!c.message.empty()) co["message"] = c.message;
    if (!c.field.empty()) co["field"] = c.field;
    cs.push_back(std::move(co));
  }
  auto details = out.find("details");
  if (details == out.end() || !details->value().is_object()) {
    out["details"] = json::object();
    details = out.find("details");
  }
  details->value().get_object()["causes"] = std::move(cs);
  return out;
}

void recordUpdate(json::object& updated, const json::object* old, const core::ResourceType& rt,
                  std::string_view manager, std::string_view time, std::string_view subresource) {
  std::vector<ManagerEntry> entries;
  if (const json::array* sent = managedFieldsOf(updated)) {
    if (sent->empty()) {  // an explicit [] resets ownership, as upstream
      if (json::object* meta = metadataOf(updated)) meta->erase("managedFields");
      return;
    }
    entries = decodeEntries(sent);
  } else if (old) {
    entries = decodeEntries(managedFieldsOf(*old));
  }

  if (!old && entries.empty() && subresource.empty()) {
    // A create without managedFields: the manager owns every tracked field.
    if (auto fields = internal::createdFieldsV1(updated, rt)) {
      json::array out;
      if (!fields->empty())
        out.push_back(entryJson(manager, "Update", rt.apiVersion(), time, "", std::move(*fields)));
      setManagedFields(updated, std::move(out));
      return;
    }
  }
  FieldSet now = trackedFields(updated, rt, subresource);
  if (!old && entries.empty()) {
    // A create without managedFields: the manager owns every tracked field, which is `now`
    // itself (the path-by-path diff below would rebuild the same set).
    if (!now.empty())
      entries.push_back({std::string(manager), "Update", rt.apiVersion(), std::string(time),
                         std::string(subresource), std::move(now)});
    encodeEntries(updated, std::move(entries));
    return;
  }
  FieldSet before = old ? trackedFields(*old, rt, subresource) : FieldSet();
  std::vector<FieldPath> changed, removed;
  now.forEach([&](const FieldPath& p) {
    if (!before.contains(p)) {
      changed.push_back(p);
    } else if (now.isLeaf(p) && old) {
      const json::value* was = internal::valueAt(*old, p);
      const json::value* is = internal::valueAt(updated, p);
      if (!was || !is || !jsonEqual(*was, *is)) changed.push_back(p);
    }
  });
  before.forEach([&](const FieldPath& p) {
    if (!now.contains(p)) removed.push_back(p);
  });

  std::string apiVersion = rt.apiVersion();
  auto self = std::find_if(entries.begin(), entries.end(), [&](const ManagerEntry& e) {
    return sameManager(e, manager, "Update", apiVersion, subresource);
  });
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it == self) continue;
    for (const auto& p : changed) it->fields.erase(p);
    for (const auto& p : removed) it->fields.eraseSubtree(p);
  }
  if (self == entries.end() && !changed.empty()) {
    entries.push_back({std::string(manager), "Update", apiVersion, std::string(time),
                       std::string(subresource), FieldSet()});
    self = entries.end() - 1;
  }
  if (self != entries.end()) {
    for (const auto& p : changed) self->fields.insert(p);
    for (const auto& p : removed) self->fields.eraseSubtree(p);
    if (!changed.empty()) self->time = std::string(time);
  }
  encodeEntries(updated, std::move(entries));
}

}  // namespace berth::apiserver::patch
