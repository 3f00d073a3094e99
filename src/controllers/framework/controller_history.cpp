#include "controllers/framework/controller_history.h"

#include <algorithm>

#include "controllers/framework/workload_util.h"

namespace berth::controllers {

namespace json = boost::json;

json::value templatePatch(const json::value& owner) {
  json::object tmpl = objAt(owner, "spec", "template");
  tmpl["$patch"] = "replace";
  return json::object{{"spec", json::object{{"template", std::move(tmpl)}}}};
}

long long revisionNumber(const json::value& revision) {
  const json::object* o = revision.if_object();
  return o ? intAt(*o, "revision").value_or(0) : 0;
}

std::vector<client::ObjectPtr> ownedRevisions(const client::Lister& revisions,
                                              const json::value& owner) {
  std::vector<client::ObjectPtr> out;
  std::string uid = uidOf(owner);
  for (auto& r : revisions.list(strAt(metaOf(owner), "namespace"))) {
    const json::object* ref = controllerRefOf(*r);
    if (ref && strAt(*ref, "uid") == uid) out.push_back(r);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return revisionNumber(*a) < revisionNumber(*b); });
  return out;
}

bool revisionMatches(const json::value& revision, const json::value& data) {
  const json::object* o = revision.if_object();
  const json::value* d = o ? o->if_contains("data") : nullptr;
  return d && *d == data;
}

core::Result<json::value> createRevision(client::RestClient& client, const json::value& owner,
                                         std::string_view ownerApiVersion,
                                         std::string_view ownerKind, const RevisionSpec& spec) {
  std::string ns = strAt(metaOf(owner), "namespace");
  json::object meta{
      {"name", spec.name},
      {"namespace", ns},
      {"labels", spec.labels},
      {"ownerReferences", json::array{newControllerRef(owner, ownerApiVersion, ownerKind)}}};
  if (const json::value* a = metaOf(owner).if_contains("annotations"); a && a->is_object()) {
    meta["annotations"] = *a;
  }
  json::object rev{{"apiVersion", "apps/v1"},
                   {"kind", "ControllerRevision"},
                   {"metadata", std::move(meta)},
                   {"data", spec.data},
                   {"revision", spec.revision}};
  auto created = client.create(kControllerRevisions, ns, rev);
  if (created.ok() || !created.status().isAlreadyExists()) return created;
  auto existing = client.get(kControllerRevisions, ns, spec.name);
  if (!existing.ok()) return existing.status();
  const json::object* ref = controllerRefOf(*existing);
  if (ref && strAt(*ref, "uid") == uidOf(owner) && revisionMatches(*existing, spec.data)) {
    return existing;
  }
  return core::Status::conflict("controllerrevisions.apps", spec.name,
                                "a revision of that name holds another template (hash collision)");
}

core::Result<json::value> renumberRevision(client::RestClient& client, const json::value& revision,
                                           long long number) {
  json::value copy = revision;
  copy.as_object()["revision"] = number;
  return client.update(kControllerRevisions, strAt(metaOf(revision), "namespace"), copy);
}

core::Status pruneRevisions(client::RestClient& client, std::vector<client::ObjectPtr> candidates,
                            long long count) {
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return revisionNumber(*a) < revisionNumber(*b); });
  size_t n = std::min(candidates.size(), static_cast<size_t>(std::max(0LL, count)));
  for (size_t i = 0; i < n; ++i) {
    const json::object& meta = metaOf(*candidates[i]);
    auto r = client.remove(kControllerRevisions, strAt(meta, "namespace"), strAt(meta, "name"));
    if (!r.ok() && !r.status().isNotFound()) return r.status();
  }
  return core::Status();
}

}  // namespace berth::controllers
