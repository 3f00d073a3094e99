// The CustomResourceDefinition kind (validation, defaults, status) and the resources a CRD
// defines. Validation messages follow upstream's pkg/apis/apiextensions/validation.
#include "apiserver/crd/definition.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "apiserver/crd/conversion.h"
#include "apiserver/crd/custom_resource.h"
#include "apiserver/crd/names.h"
#include "core/clock.h"
#include "core/kinds/internal.h"
#include "core/resource_behavior.h"

namespace berth::apiserver::crd {
namespace {

namespace json = boost::json;
using namespace core::kinds::detail;  // field-error builders and JSON accessors

constexpr std::string_view kApiVersionDoc =
    "APIVersion defines the versioned schema of this representation of an object. Servers should "
    "convert recognized schemas to the latest internal value, and may reject unrecognized "
    "values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
constexpr std::string_view kKindDoc =
    "Kind is a string value representing the REST resource this object represents. Servers may "
    "infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> strings(const json::object& o, std::string_view k) {
  std::vector<std::string> out;
  if (const json::array* a = getArr(o, k)) {
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.get_string());
  }
  return out;
}

json::array toArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// spec.names with upstream's defaults (singular = lower(kind), listKind = kind + "List").
json::object defaultedNames(const json::object& spec) {
  json::object names;
  if (const json::object* n = getObj(spec, "names")) names = *n;
  std::string kind(getStr(names, "kind"));
  if (getStr(names, "singular").empty() && !kind.empty()) names["singular"] = lower(kind);
  if (getStr(names, "listKind").empty() && !kind.empty()) names["listKind"] = kind + "List";
  return names;
}

std::string storageVersionOf(const json::object& spec) {
  if (const json::array* vs = getArr(spec, "versions")) {
    for (const auto& v : *vs) {
      if (v.is_object() && getBool(v.get_object(), "storage").value_or(false))
        return std::string(getStr(v.get_object(), "name"));
    }
  }
  return "";
}

// The status upstream's naming and establishing controllers converge to, computed on write:
// names accepted unless another CRD of the group holds them (crd/names.h), established once all
// were accepted, the storage version recorded.
void computeStatus(json::object& crd, const json::object* old) {
  const json::object* spec = getObj(crd, "spec");
  if (spec == nullptr) return;
  json::object status;
  if (old != nullptr) {
    if (const json::object* s = getObj(*old, "status")) status = *s;
  }
  std::string name, created;
  if (const json::object* meta = getObj(crd, "metadata")) {
    name = std::string(getStr(*meta, "name"));
    created = std::string(getStr(*meta, "creationTimestamp"));
  }
  json::object previous;
  if (const json::object* a = getObj(status, "acceptedNames")) previous = *a;
  NamesDecision names = decideNames(defaultedNames(*spec), previous,
                                    usedNamesInGroup(std::string(getStr(*spec, "group")), name));
  status["acceptedNames"] = names.acceptedNames;
  std::vector<std::string> stored = strings(status, "storedVersions");
  std::string storage = storageVersionOf(*spec);
  if (!storage.empty() && std::find(stored.begin(), stored.end(), storage) == stored.end())
    stored.push_back(storage);
  status["storedVersions"] = toArray(stored);
  // A condition keeps its transition time while its status stays; a new one starts at the
  // creation (on create) or now.
  std::string now = old == nullptr && !created.empty() ? created : core::nowRfc3339();
  auto previousOf = [&](const char* type) -> const json::object* {
    if (const json::array* cs = getArr(status, "conditions")) {
      for (const auto& c : *cs) {
        if (c.is_object() && getStr(c.get_object(), "type") == type) return &c.get_object();
      }
    }
    return nullptr;
  };
  auto condition = [&](const char* type, bool ok, std::string reason, std::string message) {
    const json::object* was = previousOf(type);
    std::string st = ok ? "True" : "False";
    std::string since =
        was && getStr(*was, "status") == st ? std::string(getStr(*was, "lastTransitionTime")) : now;
    return json::object{{"type", type},
                        {"status", st},
                        {"lastTransitionTime", since},
                        {"reason", std::move(reason)},
                        {"message", std::move(message)}};
  };
  json::object accepted =
      names.accepted ? condition("NamesAccepted", true, "NoConflicts", "no conflicts found")
                     : condition("NamesAccepted", false, names.reason, names.message);
  const json::object* wasEstablished = previousOf("Established");
  json::object established;
  if (wasEstablished && getStr(*wasEstablished, "status") == "True") {
    established = *wasEstablished;
  } else if (names.accepted) {
    established = condition("Established", true, "InitialNamesAccepted",
                            "the initial names have been accepted");
  } else {
    established = condition("Established", false, "NotAccepted", "not all names are accepted");
  }
  status["conditions"] = json::array{std::move(accepted), std::move(established)};
  crd["status"] = std::move(status);
}

// The CRD kind's behaviour: defaults, validation, server-computed status, cleanup finalizer.
class CrdBehavior : public core::ResourceBehavior {
 public:
  core::Status convertToStorage(const core::ResourceType& rt, json::object& obj) const override {
    obj["apiVersion"] = rt.apiVersion();
    obj["kind"] = rt.kind;
    return {};
  }
  core::Status convertFromStorage(const core::ResourceType& rt, json::object& obj) const override {
    return convertToStorage(rt, obj);
  }
  void applyDefaults(json::object& obj) const override {
    json::object* spec = getObjMut(obj, "spec");
    if (spec == nullptr) return;
    json::object& conversion = ensureObj(*spec, "conversion");
    if (getStr(conversion, "strategy").empty()) conversion["strategy"] = "None";
    json::object names = defaultedNames(*spec);
    if (!names.empty()) (*spec)["names"] = std::move(names);
  }
  std::vector<core::StatusCause> validate(const json::object& obj,
                                          const json::object* old) const override {
    return validateCrd(obj, old);
  }
  void prepareForCreate(json::object& obj) const override {
    computeStatus(obj, nullptr);
    json::array& finalizers = ensureArr(ensureObj(obj, "metadata"), "finalizers");
    for (const auto& f : finalizers)
      if (f.is_string() && f.get_string() == kCleanupFinalizer) return;
    finalizers.emplace_back(kCleanupFinalizer);
  }
  void prepareForUpdate(json::object& obj, const json::object& old, bool) const override {
    computeStatus(obj, &old);
  }
  bool tracksGeneration() const override { return true; }
  std::vector<std::string> unknownFields(const json::object&) const override { return {}; }
  const json::object* openapiSchema() const override {
    static const json::object kSchema{
        {"description",
         "CustomResourceDefinition represents a resource that should be exposed on the API "
         "server.  Its name MUST be in the format <.spec.name>.<.spec.group>."},
        {"type", "object"},
        {"required", json::array{"spec"}},
        {"properties",
         {{"spec",
           {{"description", "spec describes how the user wants the resources to appear"},
            {"type", "object"},
            {"x-kubernetes-preserve-unknown-fields", true}}},
          {"status",
           {{"description", "status indicates the actual state of the CustomResourceDefinition"},
            {"type", "object"},
            {"x-kubernetes-preserve-unknown-fields", true}}}}}};
    return &kSchema;
  }
  const std::vector<core::PrinterColumn>* printerColumns() const override { return nullptr; }
  const core::ScalePaths* scalePaths() const override { return nullptr; }
  bool supportsStrategicMerge() const override { return true; }
};

void validateDns1035(const json::object& o, std::string_view k, const std::string& path,
                     bool required, FieldErrors& errs, bool lowerFirst = false) {
  std::string v(getStr(o, k));
  if (v.empty()) {
    if (required) addRequired(errs, path);
    return;
  }
  for (const auto& m : core::kinds::isDns1035Label(lowerFirst ? lower(v) : v))
    addInvalidStr(errs, path, v, m);
}

void validateNames(const json::object& names, const std::string& path, FieldErrors& errs) {
  validateDns1035(names, "plural", path + ".plural", true, errs);
  validateDns1035(names, "singular", path + ".singular", false, errs);
  validateDns1035(names, "kind", path + ".kind", true, errs, true);
  validateDns1035(names, "listKind", path + ".listKind", false, errs, true);
  auto shorts = strings(names, "shortNames");
  for (size_t i = 0; i < shorts.size(); ++i) {
    for (const auto& m : core::kinds::isDns1035Label(shorts[i]))
      addInvalidStr(errs, index(path + ".shortNames", i), shorts[i], m);
  }
  auto cats = strings(names, "categories");
  for (size_t i = 0; i < cats.size(); ++i) {
    for (const auto& m : core::kinds::isDns1035Label(cats[i]))
      addInvalidStr(errs, index(path + ".categories", i), cats[i], m);
  }
}

void validateScale(const json::object& scale, const std::string& path, FieldErrors& errs) {
  auto check = [&](std::string_view k, std::vector<std::string_view> roots, bool required,
                   const char* message) {
    std::string v(getStr(scale, k));
    std::string p = path + "." + std::string(k);
    if (v.empty()) {
      if (required) addRequired(errs, p);
      return;
    }
    for (auto r : roots) {
      if (v.rfind(std::string(r) + ".", 0) == 0) return;
    }
    addInvalidStr(errs, p, v, message);
  };
  check("specReplicasPath", {".spec"}, true, "should be a json path under .spec");
  check("statusReplicasPath", {".status"}, true, "should be a json path under .status");
  check("labelSelectorPath", {".spec", ".status"}, false,
        "should be a json path under either .spec or .status");
}

void validateColumns(const json::array& cols, const std::string& path, FieldErrors& errs) {
  static const std::vector<std::string> kColumnTypes = {"integer", "number", "string", "boolean",
                                                        "date"};
  for (size_t i = 0; i < cols.size(); ++i) {
    std::string p = index(path, i);
    if (!cols[i].is_object()) continue;
    const json::object& c = cols[i].get_object();
    if (getStr(c, "name").empty()) addRequired(errs, p + ".name");
    std::string type(getStr(c, "type"));
    if (type.empty()) {
      addRequired(errs, p + ".type");
    } else if (std::find(kColumnTypes.begin(), kColumnTypes.end(), type) == kColumnTypes.end()) {
      addNotSupported(errs, p + ".type", goQuote(type), kColumnTypes);
    }
    if (getStr(c, "jsonPath").empty()) addRequired(errs, p + ".jsonPath");
  }
}

void validateVersions(const json::object& spec, FieldErrors& errs) {
  const json::array* versions = getArr(spec, "versions");
  if (versions == nullptr || versions->empty()) {
    addInvalid(errs, "spec.versions", "null",
               "must have exactly one version marked as storage "
               "version");
    return;
  }
  int storage = 0, served = 0;
  std::vector<std::string> seen;
  for (size_t i = 0; i < versions->size(); ++i) {
    std::string p = index("spec.versions", i);
    if (!(*versions)[i].is_object()) continue;
    const json::object& v = (*versions)[i].get_object();
    std::string name(getStr(v, "name"));
    validateDns1035(v, "name", p + ".name", true, errs);
    if (!name.empty() && std::find(seen.begin(), seen.end(), name) != seen.end())
      addDuplicate(errs, p + ".name", goQuote(name));
    seen.push_back(name);
    storage += getBool(v, "storage").value_or(false) ? 1 : 0;
    served += getBool(v, "served").value_or(false) ? 1 : 0;
    const json::object* schema = getObj(v, "schema");
    const json::object* raw = schema ? getObj(*schema, "openAPIV3Schema") : nullptr;
    if (raw == nullptr) {
      addRequired(errs, p + ".schema.openAPIV3Schema", "schemas are required");
    } else {
      std::string sp = p + ".schema.openAPIV3Schema";
      compileRules(compileSchema(*raw, sp, errs), sp, errs);
    }
    if (const json::object* subs = getObj(v, "subresources")) {
      if (const json::object* scale = getObj(*subs, "scale"))
        validateScale(*scale, p + ".subresources.scale", errs);
    }
    if (const json::array* cols = getArr(v, "additionalPrinterColumns"))
      validateColumns(*cols, p + ".additionalPrinterColumns", errs);
    if (const json::array* fields = getArr(v, "selectableFields")) {
      std::vector<std::string> paths;
      for (size_t j = 0; j < fields->size(); ++j) {
        std::string fp = index(p + ".selectableFields", j) + ".jsonPath";
        std::string path = (*fields)[j].is_object()
                               ? std::string(getStr((*fields)[j].get_object(), "jsonPath"))
                               : std::string();
        if (path.empty()) {
          addRequired(errs, fp);
        } else if (path[0] != '.') {
          addInvalidStr(errs, fp, path, "must be a simple JSON path starting with \".\"");
        } else if (std::find(paths.begin(), paths.end(), path) != paths.end()) {
          addDuplicate(errs, fp, goQuote(path));
        }
        paths.push_back(path);
      }
      if (fields->size() > 8) {
        errs.push_back(
            {"FieldValueTooMany",
             "Too many: " + std::to_string(fields->size()) + ": must have at most 8 items",
             p + ".selectableFields"});
      }
    }
  }
  // The value printed is the list of version names (upstream dumps the whole Go slice).
  json::array names;
  for (const auto& n : seen) names.emplace_back(n);
  if (storage != 1) {
    addInvalid(errs, "spec.versions", json::serialize(names),
               "must have exactly one version marked as storage version");
  }
  if (served == 0) {
    addInvalid(errs, "spec.versions", json::serialize(names),
               "must have at least one version marked as served");
  }
}

}  // namespace

FieldErrors validateCrd(const json::object& crd, const json::object* old) {
  FieldErrors errs;
  const json::object* spec = getObj(crd, "spec");
  if (spec == nullptr) {
    addRequired(errs, "spec");
    return errs;
  }
  std::string group(getStr(*spec, "group"));
  if (group.empty()) {
    addRequired(errs, "spec.group");
  } else {
    for (const auto& m : core::kinds::isDns1123Subdomain(group))
      addInvalidStr(errs, "spec.group", group, m);
    if (group.find('.') == std::string::npos)
      addInvalidStr(errs, "spec.group", group, "should be a domain with at least one dot");
  }
  json::object names = defaultedNames(*spec);
  validateNames(names, "spec.names", errs);
  std::string plural(getStr(names, "plural"));
  std::string name;
  if (const json::object* meta = getObj(crd, "metadata")) name = std::string(getStr(*meta, "name"));
  if (!plural.empty() && !group.empty() && name != plural + "." + group) {
    addInvalidStr(errs, "metadata.name", name, "must be spec.names.plural+\".\"+spec.group");
  }
  std::string scope(getStr(*spec, "scope"));
  if (scope.empty()) {
    addRequired(errs, "spec.scope");
  } else if (scope != "Cluster" && scope != "Namespaced") {
    addNotSupported(errs, "spec.scope", goQuote(scope), {"Cluster", "Namespaced"});
  }
  validateVersions(*spec, errs);
  const json::object* oldSpec = old != nullptr ? getObj(*old, "spec") : nullptr;
  for (auto& e : validateConversion(*spec, oldSpec)) errs.push_back(std::move(e));
  if (old != nullptr) {
    // A version that may still have objects stored in it cannot disappear from spec.versions.
    const json::object* oldStatus = getObj(*old, "status");
    std::vector<std::string> stored =
        oldStatus ? strings(*oldStatus, "storedVersions") : std::vector<std::string>{};
    std::vector<std::string> now;
    if (const json::array* vs = getArr(*spec, "versions")) {
      for (const auto& v : *vs)
        if (v.is_object()) now.emplace_back(getStr(v.get_object(), "name"));
    }
    for (size_t i = 0; i < stored.size(); ++i) {
      if (std::find(now.begin(), now.end(), stored[i]) == now.end())
        addInvalidStr(errs, index("status.storedVersions", i), stored[i],
                      "must appear in spec.versions");
    }
    if (const json::object* oldSpec = getObj(*old, "spec")) {
      if (getStr(*oldSpec, "scope") != scope && !scope.empty())
        addInvalidStr(errs, "spec.scope", scope, "field is immutable");
    }
  }
  return errs;
}

core::ResourceType crdResourceType() {
  core::ResourceType rt;
  rt.group = std::string(kGroup);
  rt.version = "v1";
  rt.kind = "CustomResourceDefinition";
  rt.plural = "customresourcedefinitions";
  rt.singular = "customresourcedefinition";
  rt.namespaced = false;
  rt.shortNames = {"crd", "crds"};
  rt.categories = {"api-extensions"};
  rt.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  rt.subresources = {"status"};
  rt.storagePrefix = std::string(kStoragePrefix);
  rt.storageGroup = rt.group;
  rt.storageVersion = rt.version;
  rt.behavior = std::make_shared<CrdBehavior>();
  return rt;
}

void installCrdKind() {
  static std::once_flag once;
  std::call_once(once,
                 [] { core::registerResources("apiextensions.k8s.io", {crdResourceType()}); });
}

namespace {
// "v1beta2" → {major 1, stability 1 (alpha 0, beta 1, GA 2), minor 2}; nullopt if not kube-like.
std::optional<std::tuple<int, int, int>> kubeVersion(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v' || !std::isdigit(static_cast<unsigned char>(v[1])))
    return std::nullopt;
  size_t i = 1;
  int major = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && major < 100000)
    major = major * 10 + (v[i++] - '0');
  if (i == v.size()) return std::tuple{major, 2, 0};
  int stability;
  if (v.substr(i, 5) == "alpha") {
    stability = 0;
    i += 5;
  } else if (v.substr(i, 4) == "beta") {
    stability = 1;
    i += 4;
  } else {
    return std::nullopt;
  }
  if (i == v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
  int minor = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && minor < 100000)
    minor = minor * 10 + (v[i++] - '0');
  if (i != v.size()) return std::nullopt;
  return std::tuple{major, stability, minor};
}
}  // namespace

bool versionLess(std::string_view a, std::string_view b) {
  auto ka = kubeVersion(a), kb = kubeVersion(b);
  if (ka && kb) {
    auto [ma, sa, na] = *ka;
    auto [mb, sb, nb] = *kb;
    if (sa != sb) return sa < sb;
    if (ma != mb) return ma < mb;
    return na < nb;
  }
  if (ka || kb) return !ka;  // kube-like versions sort above others
  return a > b;              // others alphabetically, first = highest
}

namespace {

// The names a CRD is served under: those it was given, once accepted and Established; none when
// they were refused. (A CRD without status, never written through the API, is served by its
// spec.)
std::optional<json::object> servedNames(const json::object& crd, const json::object& spec) {
  json::object names = defaultedNames(spec);
  const json::object* status = getObj(crd, "status");
  if (status == nullptr) return names;
  bool established = false;
  if (const json::array* cs = getArr(*status, "conditions")) {
    for (const auto& c : *cs) {
      established =
          established || (c.is_object() && getStr(c.get_object(), "type") == "Established" &&
                          getStr(c.get_object(), "status") == "True");
    }
  }
  const json::object* accepted = getObj(*status, "acceptedNames");
  if (!established || accepted == nullptr) return std::nullopt;
  names = *accepted;
  if (getStr(names, "singular").empty()) names["singular"] = lower(getStr(names, "kind"));
  return names;
}

// spec.conversion: a webhook converter, or none (strategy None: only apiVersion changes).
Converter converterOf(const json::object& spec, const json::object& names,
                      std::shared_ptr<webhook::Client> webhookClient) {
  const json::object* conv = getObj(spec, "conversion");
  if (!conv || getStr(*conv, "strategy") != "Webhook") return Converter();
  const json::object* hook = getObj(*conv, "webhook");
  const json::object* cc = hook ? getObj(*hook, "clientConfig") : nullptr;
  return Converter(std::string(getStr(names, "kind")),
                   {cc ? *cc : json::object(), pickReviewVersion(*conv), std::move(webhookClient)});
}

core::ResourceType resourceTypeOf(const json::object& spec, const json::object& names,
                                  const std::string& group, const std::string& version,
                                  const std::string& storage) {
  core::ResourceType rt;
  rt.group = group;
  rt.version = version;
  rt.kind = std::string(getStr(names, "kind"));
  rt.plural = std::string(getStr(names, "plural"));
  rt.singular = std::string(getStr(names, "singular"));
  rt.namespaced = getStr(spec, "scope") != "Cluster";
  rt.shortNames = strings(names, "shortNames");
  rt.categories = strings(names, "categories");
  rt.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  rt.storagePrefix = "/registry/" + rt.plural + "." + group + "/";
  rt.storageGroup = group;
  rt.storageVersion = storage;
  return rt;
}

// A version's status and scale subresources.
void readSubresources(const json::object& v, VersionSpec& vs, core::ResourceType& rt) {
  const json::object* subs = getObj(v, "subresources");
  if (subs == nullptr) return;
  if (subs->contains("status")) {
    vs.statusSubresource = true;
    rt.subresources.push_back("status");
  }
  if (const json::object* scale = getObj(*subs, "scale")) {
    vs.scale = core::ScalePaths{std::string(getStr(*scale, "specReplicasPath")),
                                std::string(getStr(*scale, "statusReplicasPath")),
                                std::string(getStr(*scale, "labelSelectorPath"))};
    rt.subresources.push_back("scale");
  }
}

// A version's schema, compiled (and its rules), and as published in OpenAPI.
void readSchema(const json::object& v, VersionSpec& vs) {
  const json::object* schema = getObj(v, "schema");
  if (const json::object* raw = schema ? getObj(*schema, "openAPIV3Schema") : nullptr) {
    FieldErrors errs;
    vs.schema = compileSchema(*raw, "", errs);
    vs.rules = compileRules(vs.schema, "", errs);
    vs.openapi = *raw;
  } else {
    vs.openapi = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  }
  // Published as upstream publishes CRD schemas: apiVersion and kind described when the CRD
  // does not describe them (OpenAPI adds metadata).
  json::object& props = ensureObj(vs.openapi, "properties");
  if (!props.contains("apiVersion"))
    props["apiVersion"] = {{"type", "string"}, {"description", kApiVersionDoc}};
  if (!props.contains("kind")) props["kind"] = {{"type", "string"}, {"description", kKindDoc}};
}

// additionalPrinterColumns and selectableFields.
void readColumnsAndFields(const json::object& v, VersionSpec& vs) {
  if (const json::array* cols = getArr(v, "additionalPrinterColumns")) {
    for (const auto& c : *cols) {
      if (!c.is_object()) continue;
      const json::object& co = c.get_object();
      vs.columns.push_back({std::string(getStr(co, "name")), std::string(getStr(co, "type")),
                            std::string(getStr(co, "format")),
                            std::string(getStr(co, "description")),
                            static_cast<int>(getInt(co, "priority").value_or(0)),
                            std::string(getStr(co, "jsonPath"))});
    }
  }
  if (const json::array* fields = getArr(v, "selectableFields")) {
    for (const auto& f : *fields) {
      if (f.is_object() && !getStr(f.get_object(), "jsonPath").empty())
        vs.selectableFields.emplace_back(getStr(f.get_object(), "jsonPath"));
    }
  }
  if (vs.columns.empty()) {
    // Upstream's default when a CRD declares no columns: the age.
    vs.columns.push_back({"Age", "date", "", "", 0, ".metadata.creationTimestamp"});
  }
}

}  // namespace

std::vector<core::ResourceType> resourcesOf(const json::object& crd,
                                            std::shared_ptr<webhook::Client> webhookClient) {
  std::vector<core::ResourceType> out;
  const json::object* spec = getObj(crd, "spec");
  const json::array* versions = spec ? getArr(*spec, "versions") : nullptr;
  if (versions == nullptr) return out;
  auto names = servedNames(crd, *spec);
  if (!names) return out;
  std::string group(getStr(*spec, "group"));
  std::string storage = storageVersionOf(*spec);
  if (group.empty() || storage.empty() || getStr(*names, "plural").empty()) return out;
  Converter converter = converterOf(*spec, *names, std::move(webhookClient));
  for (const auto& vv : *versions) {
    if (!vv.is_object()) continue;
    const json::object& v = vv.get_object();
    std::string version(getStr(v, "name"));
    if (!getBool(v, "served").value_or(false) && version != storage) continue;
    core::ResourceType rt = resourceTypeOf(*spec, *names, group, version, storage);
    VersionSpec vs;
    vs.group = group;
    vs.version = version;
    vs.kind = rt.kind;
    vs.converter = converter;
    readSubresources(v, vs, rt);
    readSchema(v, vs);
    readColumnsAndFields(v, vs);
    rt.behavior = std::make_shared<CustomResourceBehavior>(std::move(vs));
    out.push_back(std::move(rt));
  }
  std::sort(out.begin(), out.end(), [](const core::ResourceType& a, const core::ResourceType& b) {
    return versionLess(b.version, a.version);
  });
  return out;
}

}  // namespace berth::apiserver::crd
