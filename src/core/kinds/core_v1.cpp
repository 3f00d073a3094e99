// core/v1 kinds other than Pod and Service: Endpoints, Node, Event, ConfigMap, Secret,
// ServiceAccount, ReplicationController, ResourceQuota, Namespace. After upstream
// pkg/apis/core/v1/defaults.go, pkg/apis/core/validation and pkg/registry/core/*/strategy.go.
#include <algorithm>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const json::object kEmpty;
constexpr int64_t kMaxSecretSize = 1024 * 1024;
constexpr const char* kImmutableSet = "field is immutable when `immutable` is set";

const json::object& specOf(const json::object& obj) {
  const json::object* s = getObj(obj, "spec");
  return s != nullptr ? *s : kEmpty;
}

// ---- Endpoints --------------------------------------------------------------------------------

void endpointsDefaults(json::object& obj) {
  json::array* subsets = getArrMut(obj, "subsets");
  if (subsets == nullptr) return;
  for (auto& sv : *subsets) {
    json::object* s = sv.if_object();
    json::array* ports = s ? getArrMut(*s, "ports") : nullptr;
    if (ports == nullptr) continue;
    for (auto& pv : *ports) {
      if (json::object* p = pv.if_object(); p && getStr(*p, "protocol").empty()) {
        (*p)["protocol"] = "TCP";
      }
    }
  }
}

void endpointsValidate(const json::object& obj, FieldErrors& errs) {
  const json::array* subsets = getArr(obj, "subsets");
  if (subsets == nullptr) return;
  for (size_t i = 0; i < subsets->size(); ++i) {
    const json::object* s = (*subsets)[i].if_object();
    if (s == nullptr) continue;
    std::string sp = index("subsets", i);
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const json::array* addrs = getArr(*s, list);
      for (size_t j = 0; addrs && j < addrs->size(); ++j) {
        const json::object* a = (*addrs)[j].if_object();
        if (a == nullptr) continue;
        std::string_view ip = getStr(*a, "ip");
        if (!isValidIp(ip)) {
          addInvalidStr(errs, child(index(child(sp, list), j), "ip"), ip,
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
        }
      }
    }
    const json::array* ports = getArr(*s, "ports");
    for (size_t j = 0; ports && j < ports->size(); ++j) {
      const json::object* p = (*ports)[j].if_object();
      if (p == nullptr) continue;
      std::string pp = index(child(sp, "ports"), j);
      std::string_view name = getStr(*p, "name");
      if (ports->size() > 1 && name.empty()) addRequired(errs, child(pp, "name"));
      if (!name.empty()) {
        for (const auto& m : isDns1123Label(name)) addInvalidStr(errs, child(pp, "name"), name, m);
      }
      int64_t port = getInt(*p, "port").value_or(0);
      for (const auto& m : isValidPortNum(port)) addInvalidInt(errs, child(pp, "port"), port, m);
      std::string_view proto = getStr(*p, "protocol");
      if (proto.empty()) {
        addRequired(errs, child(pp, "protocol"));
      } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
        addNotSupported(errs, child(pp, "protocol"), goQuote(proto), {"SCTP", "TCP", "UDP"});
      }
    }
  }
}

// ---- Node -------------------------------------------------------------------------------------

void nodeDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  std::string cidr(getStr(spec, "podCIDR"));
  if (!cidr.empty() && !has(spec, "podCIDRs")) spec["podCIDRs"] = json::array{cidr};
  if (json::object* status = getObjMut(obj, "status")) {
    if (const json::value* cap = getVal(*status, "capacity")) setDefault(*status, "allocatable", *cap);
  }
}

void nodeValidate(const json::object& obj, FieldErrors& errs) {
  const json::array* taints = getArr(specOf(obj), "taints");
  for (size_t i = 0; taints && i < taints->size(); ++i) {
    const json::object* t = (*taints)[i].if_object();
    if (t == nullptr) continue;
    std::string p = index("spec.taints", i);
    std::string_view k = getStr(*t, "key");
    for (const auto& m : isQualifiedName(k)) addInvalidStr(errs, child(p, "key"), k, m);
    std::string_view v = getStr(*t, "value");
    for (const auto& m : isValidLabelValue(v)) addInvalidStr(errs, child(p, "value"), v, m);
    std::string_view effect = getStr(*t, "effect");
    if (effect.empty()) {
      addRequired(errs, child(p, "effect"));
    } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      addNotSupported(errs, child(p, "effect"), goQuote(effect),
                      {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
  }
}

void nodeValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object& oldSpec = specOf(old);
  const json::array* oldCidrs = getArr(oldSpec, "podCIDRs");
  if (oldCidrs != nullptr && !oldCidrs->empty() &&
      !sameJson(getVal(spec, "podCIDRs"), getVal(oldSpec, "podCIDRs"))) {
    addForbidden(errs, "spec.podCIDRs",
                 "node updates may not change podCIDR except from \"\" to valid");
  }
  std::string_view oldProvider = getStr(oldSpec, "providerID");
  if (!oldProvider.empty() && oldProvider != getStr(spec, "providerID")) {
    addForbidden(errs, "spec.providerID",
                 "node updates may not change providerID except from \"\" to valid");
  }
}

// ---- Event (core/v1) --------------------------------------------------------------------------

void eventValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* meta = getObj(obj, "metadata");
  std::string_view ns = meta ? getStr(*meta, "namespace") : "";
  const json::object* io = getObj(obj, "involvedObject");
  std::string_view ioNs = io ? getStr(*io, "namespace") : "";
  const char* mismatch = "does not match event.namespace";
  if (getStr(obj, "eventTime").empty()) {
    if (ioNs.empty() ? (!ns.empty() && ns != "default") : ns != ioNs) {
      addInvalidStr(errs, "involvedObject.namespace", ioNs, mismatch);
    }
  } else {
    if (ioNs.empty() && ns != "default" && ns != "kube-system") {
      addInvalidStr(errs, "involvedObject.namespace", ioNs, mismatch);
    }
    std::string_view rc = getStr(obj, "reportingComponent");
    if (rc.empty()) {
      addRequired(errs, "reportingComponent");
    }
    for (const auto& m : isQualifiedName(rc)) addInvalidStr(errs, "reportingComponent", rc, m);
    for (const char* f : {"reportingInstance", "action", "reason"}) {
      std::string_view v = getStr(obj, f);
      if (v.empty()) addRequired(errs, f);
      if (v.size() > 128) addInvalid(errs, f, "\"\"", "can have at most 128 characters");
    }
    if (getStr(obj, "message").size() > 1024) {
      addInvalid(errs, "message", "\"\"", "can have at most 1024 characters");
    }
  }
  for (const auto& m : isDns1123Subdomain(ns)) addInvalidStr(errs, "namespace", ns, m);
}

// ---- ConfigMap / Secret -----------------------------------------------------------------------

void configMapValidate(const json::object& obj, FieldErrors& errs) {
  int64_t total = 0;
  const json::object* data = getObj(obj, "data");
  const json::object* binary = getObj(obj, "binaryData");
  if (data != nullptr) {
    for (const auto& [k, v] : *data) {
      std::string p = key("data", k);
      for (const auto& m : isConfigMapKey(k)) addInvalidStr(errs, p, k, m);
      if (binary != nullptr && binary->contains(k)) {
        addInvalidStr(errs, p, k, "duplicate of key present in binaryData");
      }
      if (v.is_string()) total += static_cast<int64_t>(v.get_string().size());
    }
  }
  if (binary != nullptr) {
    for (const auto& [k, v] : *binary) {
      std::string p = key("binaryData", k);
      for (const auto& m : isConfigMapKey(k)) addInvalidStr(errs, p, k, m);
      if (data != nullptr && data->contains(k)) {
        addInvalidStr(errs, p, k, "duplicate of key present in data");
      }
      if (v.is_string()) total += static_cast<int64_t>(v.get_string().size()) * 3 / 4;
    }
  }
  if (total > kMaxSecretSize) addTooLong(errs, "", kMaxSecretSize);
}

void immutableDataUpdate(const json::object& obj, const json::object& old, FieldErrors& errs,
                         std::initializer_list<const char*> dataFields) {
  if (!getBool(old, "immutable").value_or(false)) return;
  if (!getBool(obj, "immutable").value_or(false)) addForbidden(errs, "immutable", kImmutableSet);
  for (const char* f : dataFields) {
    if (!sameJson(getVal(obj, f), getVal(old, f))) addForbidden(errs, f, kImmutableSet);
  }
}

void configMapValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  immutableDataUpdate(obj, old, errs, {"data", "binaryData"});
}

// v1 stringData is write-only: it merges into data (upstream conversion).
void secretDefaults(json::object& obj) {
  setDefault(obj, "type", "Opaque");
  if (const json::object* sd = getObj(obj, "stringData")) {
    json::object& data = ensureObj(obj, "data");
    for (const auto& [k, v] : *sd) {
      if (v.is_string()) data[k] = base64Encode(v.get_string());
    }
  }
  obj.erase("stringData");
}

void secretValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* data = getObj(obj, "data");
  int64_t total = 0;
  auto present = [&](std::string_view k) { return data != nullptr && data->contains(k); };
  if (data != nullptr) {
    for (const auto& [k, v] : *data) {
      for (const auto& m : isConfigMapKey(k)) addInvalidStr(errs, key("data", k), k, m);
      if (!v.is_string()) continue;
      auto decoded = base64Decode(v.get_string());
      if (!decoded) {
        addInvalid(errs, key("data", k), "\"<secret contents redacted>\"", "illegal base64 data");
      } else {
        total += static_cast<int64_t>(decoded->size());
      }
    }
  }
  if (total > kMaxSecretSize) addTooLong(errs, "data", kMaxSecretSize);
  std::string_view type = getStr(obj, "type");
  auto requireJson = [&](const char* k) {
    if (!present(k)) {
      addRequired(errs, key("data", k));
      return;
    }
    const json::value& v = data->at(k);
    auto decoded = v.is_string() ? base64Decode(v.get_string()) : std::nullopt;
    boost::system::error_code ec;
    if (decoded) {
      json::value parsed = json::parse(*decoded, ec);
      if (!ec && !parsed.is_object()) ec = json::make_error_code(json::error::not_object);
    }
    if (decoded && ec) {
      addInvalid(errs, key("data", k), "\"<secret contents redacted>\"", ec.message());
    }
  };
  if (type == "kubernetes.io/service-account-token") {
    const json::object* meta = getObj(obj, "metadata");
    const json::object* ann = meta ? getObj(*meta, "annotations") : nullptr;
    if (ann == nullptr || getStr(*ann, "kubernetes.io/service-account.name").empty()) {
      addRequired(errs, "metadata.annotations[kubernetes.io/service-account.name]");
    }
  } else if (type == "kubernetes.io/dockercfg") {
    requireJson(".dockercfg");
  } else if (type == "kubernetes.io/dockerconfigjson") {
    requireJson(".dockerconfigjson");
  } else if (type == "kubernetes.io/basic-auth") {
    if (!present("username") && !present("password")) {
      addRequired(errs, "data[username]");
      addRequired(errs, "data[password]");
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    if (!present("ssh-privatekey") || getStr(*data, "ssh-privatekey").empty()) {
      addRequired(errs, "data[ssh-privatekey]");
    }
  } else if (type == "kubernetes.io/tls") {
    if (!present("tls.crt")) addRequired(errs, "data[tls.crt]");
    if (!present("tls.key")) addRequired(errs, "data[tls.key]");
  }
}

void secretValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  validateImmutable(getVal(obj, "type"), getVal(old, "type"), "type", errs);
  immutableDataUpdate(obj, old, errs, {"data"});
}

// ---- ReplicationController --------------------------------------------------------------------

void rcDefaults(json::object& obj) {
  ensureObj(obj, "metadata");  // first, so that `spec` below stays valid
  json::object& spec = ensureObj(obj, "spec");
  if (const json::object* found = templateLabels(spec)) {
    json::object labels = *found;  // copied: inserting into spec may move the template
    const json::object* sel = getObj(spec, "selector");
    if (sel == nullptr || sel->empty()) spec["selector"] = labels;
    json::object& meta = ensureObj(obj, "metadata");
    const json::object* own = getObj(meta, "labels");
    if (own == nullptr || own->empty()) meta["labels"] = std::move(labels);
  }
  setDefault(spec, "replicas", 1);
  if (has(spec, "template")) defaultPodTemplate(ensureObj(spec, "template"));
}

void rcValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  const json::object* sel = getObj(spec, "selector");
  if (sel == nullptr || sel->empty()) addRequired(errs, "spec.selector");
  validateLabels(sel, "spec.selector", errs);
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  const json::object* tmpl = getObj(spec, "template");
  if (tmpl == nullptr) {
    addRequired(errs, "spec.template");
    return;
  }
  if (sel != nullptr && !sel->empty()) {
    json::object selector{{"matchLabels", *sel}};
    if (!selectorMatches(selector, templateLabels(spec))) {
      addInvalid(errs, "spec.template.metadata.labels", formatStringMap(templateLabels(spec)),
                 "`selector` does not match template `labels`");
    }
  }
  validateAlwaysRestartTemplate(spec, "spec", "ReplicationController", errs);
}

// ---- ResourceQuota ----------------------------------------------------------------------------

void quotaValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateResourceList(getObj(spec, "hard"), "spec.hard", errs);
  static const std::vector<std::string> kScopes = {"Terminating",   "NotTerminating",
                                                   "BestEffort",    "NotBestEffort",
                                                   "PriorityClass", "CrossNamespacePodAffinity"};
  if (const json::array* scopes = getArr(spec, "scopes")) {
    for (const auto& s : *scopes) {
      std::string_view v = s.is_string() ? std::string_view(s.get_string()) : "";
      if (std::find(kScopes.begin(), kScopes.end(), v) == kScopes.end()) {
        addInvalidStr(errs, "spec.scopes", v, "unsupported scope");
      }
    }
  }
}

// ---- Namespace --------------------------------------------------------------------------------

void namespaceDefaults(json::object& obj) {
  json::object& meta = ensureObj(obj, "metadata");
  std::string name(getStr(meta, "name"));
  if (!name.empty()) ensureObj(meta, "labels")["kubernetes.io/metadata.name"] = name;
  if (json::object* status = getObjMut(obj, "status")) setDefault(*status, "phase", "Active");
}

void namespaceValidate(const json::object& obj, FieldErrors& errs) {
  const json::array* finalizers = getArr(specOf(obj), "finalizers");
  for (size_t i = 0; finalizers && i < finalizers->size(); ++i) {
    const json::value& f = (*finalizers)[i];
    std::string_view name = f.is_string() ? std::string_view(f.get_string()) : "";
    auto msgs = isQualifiedName(name);
    for (const auto& m : msgs) addInvalidStr(errs, "spec.finalizers", name, m);
    if (msgs.empty() && name.find('/') == std::string_view::npos && name != "kubernetes") {
      addInvalidStr(errs, "spec.finalizers", name,
                    "name is neither a standard finalizer name nor is it fully qualified");
    }
  }
}

void namespacePrepareCreate(json::object& obj) {
  obj["status"] = json::object{{"phase", "Active"}};
  json::array& finalizers = ensureArr(ensureObj(obj, "spec"), "finalizers");
  bool hasKube = false;
  for (const auto& f : finalizers) hasKube = hasKube || (f.is_string() && f == "kubernetes");
  if (!hasKube) finalizers.push_back("kubernetes");
}

void namespacePrepareUpdate(json::object& obj, const json::object& old) {
  json::object& spec = ensureObj(obj, "spec");
  if (const json::value* f = getVal(specOf(old), "finalizers")) {
    spec["finalizers"] = *f;
  } else {
    spec.erase("finalizers");
  }
}

}  // namespace

const KindOps* coreOps(std::string_view kind) {
  auto make = [](auto fn) {
    KindOps o;
    fn(o);
    return o;
  };
  static const KindOps endpoints = make([](KindOps& o) {
    o.defaults = endpointsDefaults;
    o.validate = endpointsValidate;
  });
  static const KindOps node = make([](KindOps& o) {
    o.defaults = nodeDefaults;
    o.validate = nodeValidate;
    o.validateUpdate = nodeValidateUpdate;
    o.keepStatusOnCreate = true;
    o.statusUpdatesMetadata = true;
  });
  static const KindOps event = make([](KindOps& o) { o.validate = eventValidate; });
  static const KindOps configMap = make([](KindOps& o) {
    o.validate = configMapValidate;
    o.validateUpdate = configMapValidateUpdate;
  });
  static const KindOps secret = make([](KindOps& o) {
    o.defaults = secretDefaults;
    o.validate = secretValidate;
    o.validateUpdate = secretValidateUpdate;
  });
  static const KindOps serviceAccount;
  static const KindOps rc = make([](KindOps& o) {
    o.defaults = rcDefaults;
    o.validate = rcValidate;
  });
  static const KindOps quota = make([](KindOps& o) { o.validate = quotaValidate; });
  static const KindOps ns = make([](KindOps& o) {
    o.nameFn = nameIsDnsLabel;
    o.defaults = namespaceDefaults;
    o.validate = namespaceValidate;
    o.prepareCreate = namespacePrepareCreate;
    o.prepareUpdate = namespacePrepareUpdate;
  });
  if (kind == "Pod") return &podOps();
  if (kind == "Service") return &serviceOps();
  if (kind == "Endpoints") return &endpoints;
  if (kind == "Node") return &node;
  if (kind == "Event") return &event;
  if (kind == "ConfigMap") return &configMap;
  if (kind == "Secret") return &secret;
  if (kind == "ServiceAccount") return &serviceAccount;
  if (kind == "ReplicationController") return &rc;
  if (kind == "ResourceQuota") return &quota;
  if (kind == "Namespace") return &ns;
  if (kind == "LimitRange") return &limitRangeOps();
  return nullptr;
}

}  // namespace berth::core::kinds::detail
