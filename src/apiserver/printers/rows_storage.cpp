// Row printers for the storage, certificates, admission registration, flow control and API
// registration kinds; facts from upstream pkg/printers/internalversion/printers.go (1.32) and,
// for APIService, kube-aggregator's pkg/registry/apiservice/etcd table convertor.
#include "apiserver/printers/rows.h"
#include "apiserver/printers/table.h"

namespace berth::apiserver::printers::internal {
namespace json = boost::json;

namespace {

// helper.GetAccessModesAsString: fixed order, duplicates dropped.
std::string accessModes(const json::object* o) {
  bool has[4] = {false, false, false, false};
  static constexpr std::pair<std::string_view, std::string_view> kModes[] = {
      {"ReadWriteOnce", "RWO"},
      {"ReadOnlyMany", "ROX"},
      {"ReadWriteMany", "RWX"},
      {"ReadWriteOncePod", "RWOP"}};
  if (const json::array* a = o ? arrayAt(*o, "accessModes") : nullptr) {
    for (const auto& v : *a) {
      for (size_t i = 0; i < 4; ++i) {
        if (v.is_string() && v.get_string() == kModes[i].first) has[i] = true;
      }
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < 4; ++i)
    if (has[i]) out.emplace_back(kModes[i].second);
  return join(out, ",");
}

// The beta annotation still wins over spec.storageClassName, as upstream's helpers read it.
std::string storageClassOf(const json::object& obj, const json::object* spec) {
  if (const json::object* ann = objectAt(obj, {"metadata", "annotations"})) {
    if (const json::value* v = field(*ann, "volume.beta.kubernetes.io/storage-class");
        v && v->is_string())
      return std::string(v->get_string());
  }
  return std::string(stringAt(spec, "storageClassName"));
}

std::string storageQuantity(const json::object* o, std::string_view listKey) {
  const json::object* list = o ? objectAt(*o, listKey) : nullptr;
  if (list == nullptr) return "0";
  std::string_view q = stringAt(*list, "storage");
  return q.empty() ? "0" : std::string(q);
}

std::string phaseOrTerminating(const json::object& obj, const json::object* status) {
  if (!metaString(obj, "deletionTimestamp").empty()) return "Terminating";
  return std::string(stringAt(status, "phase"));
}

std::string stringOr(const json::object* o, std::string_view key, std::string_view fallback) {
  if (o == nullptr || field(*o, key) == nullptr || !field(*o, key)->is_string())
    return std::string(fallback);
  return std::string(stringAt(*o, key));
}

}  // namespace

Cells persistentVolumeRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  std::string claim;
  if (const json::object* ref = spec ? objectAt(*spec, "claimRef") : nullptr) {
    claim = std::string(stringAt(*ref, "namespace")) + "/" + std::string(stringAt(*ref, "name"));
  }
  return Cells{name(obj),
               storageQuantity(spec, "capacity"),
               accessModes(spec),
               stringAt(spec, "persistentVolumeReclaimPolicy"),
               phaseOrTerminating(obj, status),
               claim,
               storageClassOf(obj, spec),
               stringOr(spec, "volumeAttributesClassName", "<unset>"),
               stringAt(status, "reason"),
               age(obj, now),
               stringOr(spec, "volumeMode", "<unset>")};
}

Cells persistentVolumeClaimRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  std::string capacity, modes;
  if (!stringAt(spec, "volumeName").empty()) {  // only a bound claim shows what it got
    capacity = storageQuantity(status, "capacity");
    modes = accessModes(status);
  }
  return Cells{name(obj),
               phaseOrTerminating(obj, status),
               stringAt(spec, "volumeName"),
               capacity,
               modes,
               storageClassOf(obj, spec),
               stringOr(spec, "volumeAttributesClassName", "<unset>"),
               age(obj, now),
               stringOr(spec, "volumeMode", "<unset>")};
}

Cells storageClassRow(const json::object& obj, TimePoint now) {
  std::string n(name(obj));
  if (const json::object* ann = objectAt(obj, {"metadata", "annotations"})) {
    for (std::string_view k : {"storageclass.kubernetes.io/is-default-class",
                               "storageclass.beta.kubernetes.io/is-default-class"}) {
      if (stringAt(*ann, k) == "true") {
        n += " (default)";
        break;
      }
    }
  }
  return Cells{n,
               stringAt(obj, "provisioner"),
               stringOr(&obj, "reclaimPolicy", "Delete"),
               stringOr(&obj, "volumeBindingMode", "Immediate"),
               boolAt(obj, "allowVolumeExpansion").value_or(false),
               age(obj, now)};
}

Cells csiDriverRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  auto flag = [&](std::string_view k, bool fallback) {
    return spec ? boolAt(*spec, k).value_or(fallback) : fallback;
  };
  std::vector<std::string> audiences, modes;
  forEachObject(spec, "tokenRequests",
                [&](const json::object& t) { audiences.emplace_back(stringAt(t, "audience")); });
  if (const json::array* m = spec ? arrayAt(*spec, "volumeLifecycleModes") : nullptr) {
    for (const auto& v : *m)
      if (v.is_string()) modes.emplace_back(v.get_string());
  }
  return Cells{name(obj),
               flag("attachRequired", true),
               flag("podInfoOnMount", false),
               flag("storageCapacity", false),
               audiences.empty() ? std::string("<unset>") : join(audiences, ","),
               flag("requiresRepublish", false),
               modes.empty() ? std::string("<none>") : join(modes, ","),
               age(obj, now)};
}

Cells csiNodeRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  return Cells{name(obj), spec ? sizeAt(*spec, "drivers") : 0, age(obj, now)};
}

Cells volumeAttachmentRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* source = spec ? objectAt(*spec, "source") : nullptr;
  const json::object* status = objectAt(obj, "status");
  return Cells{name(obj),
               stringAt(spec, "attacher"),
               stringAt(source, "persistentVolumeName"),
               stringAt(spec, "nodeName"),
               status ? boolAt(*status, "attached").value_or(false) : false,
               age(obj, now)};
}

// extractCSRStatus: Denied over Approved over Pending, then ",Failed" and ",Issued".
Cells certificateSigningRequestRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  bool approved = false, denied = false, failed = false;
  forEachObject(status, "conditions", [&](const json::object& c) {
    std::string_view t = stringAt(c, "type");
    approved = approved || t == "Approved";
    denied = denied || t == "Denied";
    failed = failed || t == "Failed";
  });
  std::string condition = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) condition += ",Failed";
  if (!stringAt(status, "certificate").empty()) condition += ",Issued";
  std::string signer(stringAt(spec, "signerName"));
  std::string duration = "<none>";
  if (auto secs = spec ? intAt(*spec, "expirationSeconds") : std::nullopt) {
    duration = humanDuration(std::chrono::seconds(*secs));
  }
  return Cells{
      name(obj), age(obj, now), signer.empty() ? "<none>" : signer, stringAt(spec, "username"),
      duration,  condition};
}

Cells webhookConfigurationRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), sizeAt(obj, "webhooks"), age(obj, now)};
}

Cells flowSchemaRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* pl = spec ? objectAt(*spec, "priorityLevelConfiguration") : nullptr;
  const json::object* dm = spec ? objectAt(*spec, "distinguisherMethod") : nullptr;
  std::string missing = "?";
  forEachObject(objectAt(obj, "status"), "conditions", [&](const json::object& c) {
    if (missing == "?" && stringAt(c, "type") == "Dangling") missing = stringAt(c, "status");
  });
  return Cells{name(obj),
               stringAt(pl, "name"),
               intOr(spec, "matchingPrecedence", 0),
               dm ? std::string(stringAt(*dm, "type")) : std::string("<none>"),
               age(obj, now),
               missing};
}

Cells priorityLevelConfigurationRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* limited = spec ? objectAt(*spec, "limited") : nullptr;
  const json::object* queuing =
      limited ? objectAt(*limited, {"limitResponse", "queuing"}) : nullptr;
  auto cell = [](const json::object* o, std::string_view k) -> json::value {
    if (o == nullptr) return "<none>";
    return intOr(o, k, 0);
  };
  return Cells{name(obj),
               stringAt(spec, "type"),
               cell(limited, "nominalConcurrencyShares"),
               cell(queuing, "queues"),
               cell(queuing, "handSize"),
               cell(queuing, "queueLengthLimit"),
               age(obj, now)};
}

Cells apiServiceRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  std::string service = "Local";
  if (const json::object* svc = spec ? objectAt(*spec, "service") : nullptr) {
    service = std::string(stringAt(*svc, "namespace")) + "/" + std::string(stringAt(*svc, "name"));
  }
  std::string available = "Unknown";
  forEachObject(objectAt(obj, "status"), "conditions", [&](const json::object& c) {
    if (stringAt(c, "type") != "Available") return;
    std::string st(stringAt(c, "status"));
    std::string_view reason = stringAt(c, "reason");
    available = st == "True" || reason.empty() ? st : st + " (" + std::string(reason) + ")";
  });
  return Cells{name(obj), service, available, age(obj, now)};
}

}  // namespace berth::apiserver::printers::internal
