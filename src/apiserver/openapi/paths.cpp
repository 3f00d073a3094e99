// REST paths of the served resources, shaped as upstream's OpenAPI publishes them: for each
// resource a collection path (list, create, deletecollection), an item path (read, replace,
// patch, delete), a cluster-wide list for namespaced resources and the status and scale
// subresources. Every operation carries x-kubernetes-action and
// x-kubernetes-group-version-kind; every PATCH lists the fieldValidation query parameter,
// which is what tells kubectl to leave field validation to the server.
#include <cctype>

#include "apiserver/openapi/builder.h"
#include "apiserver/protobuf/schema.h"
#include "core/resource_behavior.h"

namespace berth::apiserver::openapi::internal {
namespace json = boost::json;

namespace {

constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";

struct Param {
  std::string_view name;
  std::string_view type;  // "string", "boolean", "integer"
  std::string_view description;
};

constexpr Param kPretty{"pretty", "string",
                        "If 'true', then the output is pretty printed. Defaults to 'false' "
                        "unless the user-agent indicates a browser or command-line HTTP tool "
                        "(curl and wget)."};
constexpr Param kDryRun{"dryRun", "string",
                        "When present, indicates that modifications should not be persisted. "
                        "Valid values are: - All: all dry run stages will be processed"};
constexpr Param kFieldManager{"fieldManager", "string",
                              "fieldManager is a name associated with the actor or entity that "
                              "is making these changes."};
constexpr Param kFieldValidation{
    "fieldValidation", "string",
    "fieldValidation instructs the server on how to handle objects in the request "
    "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: "
    "unknown fields are silently dropped. - Warn: a warning is sent for each unknown or "
    "duplicate field (the default). - Strict: the request fails with a BadRequest error if any "
    "unknown or duplicate fields are present."};
constexpr Param kForce{"force", "boolean",
                       "Force is going to \"force\" Apply requests. It means user will "
                       "re-acquire conflicting fields owned by other people. Force flag must be "
                       "unset for non-apply patch requests."};
constexpr Param kGracePeriod{"gracePeriodSeconds", "integer",
                             "The duration in seconds before the object should be deleted."};
constexpr Param kPropagationPolicy{"propagationPolicy", "string",
                                   "Whether and how garbage collection will be performed: "
                                   "'Orphan', 'Background' or 'Foreground'."};
constexpr Param kListParams[] = {
    {"allowWatchBookmarks", "boolean",
     "allowWatchBookmarks requests watch events with type "
     "\"BOOKMARK\"."},
    {"continue", "string",
     "The continue option should be set when retrieving more results "
     "from the server."},
    {"fieldSelector", "string",
     "A selector to restrict the list of returned objects by their "
     "fields. Defaults to everything."},
    {"labelSelector", "string",
     "A selector to restrict the list of returned objects by their "
     "labels. Defaults to everything."},
    {"limit", "integer", "limit is a maximum number of responses to return for a list call."},
    {"resourceVersion", "string",
     "resourceVersion sets a constraint on what resource versions "
     "a request may be served from."},
    {"resourceVersionMatch", "string",
     "resourceVersionMatch determines how resourceVersion is "
     "applied to list calls."},
    {"sendInitialEvents", "boolean",
     "`sendInitialEvents=true` may be set together with "
     "`watch=true`."},
    {"timeoutSeconds", "integer", "Timeout for the list/watch call."},
    {"watch", "boolean",
     "Watch for changes to the described resources and return them as a "
     "stream of add, update, and remove notifications."},
};

json::object queryParam(const Param& p, Dialect dialect) {
  json::object o{{"name", p.name}, {"in", "query"}, {"description", p.description}};
  if (dialect == Dialect::kV3) {
    o["schema"] = {{"type", p.type}, {"uniqueItems", true}};
  } else {
    o["type"] = p.type;
    o["uniqueItems"] = true;
  }
  return o;
}

json::object pathParam(std::string_view name, std::string description, Dialect dialect) {
  json::object o{
      {"name", name}, {"in", "path"}, {"required", true}, {"description", std::move(description)}};
  if (dialect == Dialect::kV3) {
    o["schema"] = {{"type", "string"}, {"uniqueItems", true}};
  } else {
    o["type"] = "string";
    o["uniqueItems"] = true;
  }
  return o;
}

json::object schemaFor(std::string_view message, Dialect dialect) {
  if (message.empty() || (!protobuf::isSpecial(message) && !protobuf::findMessage(message))) {
    return {{"type", "object"}};
  }
  return refSchema(message, dialect);
}

constexpr std::string_view kResponseTypes[] = {"application/json", "application/yaml",
                                               "application/vnd.kubernetes.protobuf"};
constexpr std::string_view kPatchTypes[] = {
    "application/json-patch+json", "application/merge-patch+json",
    "application/strategic-merge-patch+json", "application/apply-patch+yaml"};

// Builds one operation in either dialect.
class Operation {
 public:
  Operation(Dialect dialect, std::string_view action, std::string operationId,
            std::string description, const GroupVersionKind& gvk, std::string tag)
      : dialect_(dialect) {
    op_["description"] = std::move(description);
    op_["operationId"] = std::move(operationId);
    op_["tags"] = json::array{json::value(std::move(tag))};
    op_["x-kubernetes-action"] = action;
    op_["x-kubernetes-group-version-kind"] = gvk.toJson();
    if (dialect_ == Dialect::kV2) {
      json::array produces;
      for (auto t : kResponseTypes) produces.emplace_back(t);
      op_["produces"] = std::move(produces);
    }
  }

  Operation& params(std::initializer_list<Param> ps) {
    for (const Param& p : ps) params_.push_back(queryParam(p, dialect_));
    return *this;
  }
  Operation& params(const Param* begin, const Param* end) {
    for (const Param* p = begin; p != end; ++p) params_.push_back(queryParam(*p, dialect_));
    return *this;
  }

  // `strategic`: whether the patch body may be a strategic merge patch (not for CRDs' kinds;
  // kubectl's apply picks its patch type from this list).
  Operation& body(std::string_view message, bool patch = false, bool strategic = true) {
    json::object schema = schemaFor(message, dialect_);
    auto patchTypes = [&] {
      std::vector<std::string_view> types;
      for (auto t : kPatchTypes)
        if (strategic || t != "application/strategic-merge-patch+json") types.push_back(t);
      return types;
    };
    if (dialect_ == Dialect::kV3) {
      json::object content;
      if (patch) {
        for (auto t : patchTypes()) content[t] = {{"schema", schema}};
      } else {
        for (auto t : kResponseTypes) content[t] = {{"schema", schema}};
      }
      op_["requestBody"] = {{"content", std::move(content)}, {"required", true}};
    } else {
      json::array consumes;
      if (patch) {
        for (auto t : patchTypes()) consumes.emplace_back(t);
      } else {
        consumes.emplace_back("*/*");
      }
      op_["consumes"] = std::move(consumes);
      params_.push_back(json::object{
          {"name", "body"}, {"in", "body"}, {"required", true}, {"schema", std::move(schema)}});
    }
    return *this;
  }

  Operation& respond(std::string_view code, std::string_view description,
                     std::string_view message) {
    json::object schema = schemaFor(message, dialect_);
    if (dialect_ == Dialect::kV3) {
      json::object content;
      for (auto t : kResponseTypes) content[t] = {{"schema", schema}};
      responses_[code] = {{"description", description}, {"content", std::move(content)}};
    } else {
      responses_[code] = {{"description", description}, {"schema", std::move(schema)}};
    }
    return *this;
  }

  json::object build() {
    responses_["401"] = {{"description", "Unauthorized"}};
    if (!params_.empty()) op_["parameters"] = std::move(params_);
    op_["responses"] = std::move(responses_);
    return std::move(op_);
  }

 private:
  Dialect dialect_;
  json::object op_;
  json::array params_;
  json::object responses_;
};

// Upstream's operation id parts: "" → "Core", "rbac.authorization.k8s.io" →
// "RbacAuthorization", "v1" → "V1".
std::string camel(std::string_view s) {
  std::string out;
  bool upper = true;
  for (char c : s) {
    if (c == '.' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string groupWord(std::string_view group) {
  if (group.empty()) return "Core";
  constexpr std::string_view kSuffix = ".k8s.io";
  if (group.size() > kSuffix.size() && group.substr(group.size() - kSuffix.size()) == kSuffix) {
    group = group.substr(0, group.size() - kSuffix.size());
  }
  return camel(group);
}

std::string tagOf(const core::ResourceType& rt) {
  std::string g = groupWord(rt.group);
  if (!g.empty()) g[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(g[0])));
  return g + "_" + rt.version;
}

bool hasVerb(const core::ResourceType& rt, std::string_view verb) {
  for (const auto& v : rt.verbs) {
    if (v == verb) return true;
  }
  return false;
}

json::object pathItem(json::array pathParams, Dialect dialect) {
  pathParams.push_back(queryParam(kPretty, dialect));
  return {{"parameters", std::move(pathParams)}};
}

}  // namespace

void addResourcePaths(const core::ResourceType& rt, Dialect dialect, json::object& paths) {
  const std::string apiVersion = rt.apiVersion();
  const std::string kindMsg = kindMessage(apiVersion, rt.kind);
  std::string listMsg = kindMessage(apiVersion, rt.listKind());
  if (listMsg.empty()) listMsg = kindMsg;
  const std::string statusMsg = std::string(kMeta) + "Status";
  const std::string deleteOptions = std::string(kMeta) + "DeleteOptions";
  const std::string patchMsg = std::string(kMeta) + "Patch";
  const GroupVersionKind gvk{rt.group, rt.version, rt.kind};
  const std::string tag = tagOf(rt);
  const bool strategic = !rt.behavior || rt.behavior->supportsStrategicMerge();
  const std::string idCore =
      groupWord(rt.group) + camel(rt.version) + (rt.namespaced ? "Namespaced" : "") + rt.kind;

  const std::string prefix =
      rt.group.empty() ? "/api/" + rt.version : "/apis/" + rt.group + "/" + rt.version;
  const std::string collection =
      prefix + (rt.namespaced ? "/namespaces/{namespace}/" : "/") + rt.plural;
  const std::string item = collection + "/{name}";

  json::array collectionParams;
  if (rt.namespaced) {
    collectionParams.push_back(pathParam(
        "namespace", "object name and auth scope, such as for teams and projects", dialect));
  }
  json::array itemParams = collectionParams;
  itemParams.insert(itemParams.begin(), pathParam("name", "name of the " + rt.kind, dialect));

  // Collection: list, create, deletecollection.
  json::object coll = pathItem(collectionParams, dialect);
  if (hasVerb(rt, "list")) {
    coll["get"] = Operation(dialect, "list", "list" + idCore,
                            "list or watch objects of kind " + rt.kind, gvk, tag)
                      .params(std::begin(kListParams), std::end(kListParams))
                      .respond("200", "OK", listMsg)
                      .build();
  }
  if (hasVerb(rt, "create")) {
    coll["post"] = Operation(dialect, "post", "create" + idCore, "create a " + rt.kind, gvk, tag)
                       .params({kDryRun, kFieldManager, kFieldValidation})
                       .body(kindMsg)
                       .respond("200", "OK", kindMsg)
                       .respond("201", "Created", kindMsg)
                       .respond("202", "Accepted", kindMsg)
                       .build();
  }
  if (hasVerb(rt, "deletecollection")) {
    coll["delete"] = Operation(dialect, "deletecollection", "deleteCollection" + idCore,
                               "delete collection of " + rt.kind, gvk, tag)
                         .params(std::begin(kListParams), std::end(kListParams))
                         .params({kDryRun, kGracePeriod, kPropagationPolicy})
                         .body(deleteOptions)
                         .respond("200", "OK", statusMsg)
                         .build();
  }
  paths[collection] = std::move(coll);

  // Item: read, replace, patch, delete.
  json::object one = pathItem(itemParams, dialect);
  if (hasVerb(rt, "get")) {
    one["get"] =
        Operation(dialect, "get", "read" + idCore, "read the specified " + rt.kind, gvk, tag)
            .respond("200", "OK", kindMsg)
            .build();
  }
  if (hasVerb(rt, "update")) {
    one["put"] =
        Operation(dialect, "put", "replace" + idCore, "replace the specified " + rt.kind, gvk, tag)
            .params({kDryRun, kFieldManager, kFieldValidation})
            .body(kindMsg)
            .respond("200", "OK", kindMsg)
            .respond("201", "Created", kindMsg)
            .build();
  }
  if (hasVerb(rt, "patch")) {
    one["patch"] = Operation(dialect, "patch", "patch" + idCore,
                             "partially update the specified " + rt.kind, gvk, tag)
                       .params({kDryRun, kFieldManager, kFieldValidation, kForce})
                       .body(patchMsg, /*patch=*/true, strategic)
                       .respond("200", "OK", kindMsg)
                       .respond("201", "Created", kindMsg)
                       .build();
  }
  if (hasVerb(rt, "delete")) {
    one["delete"] = Operation(dialect, "delete", "delete" + idCore, "delete a " + rt.kind, gvk, tag)
                        .params({kDryRun, kGracePeriod, kPropagationPolicy})
                        .body(deleteOptions)
                        .respond("200", "OK", statusMsg)
                        .respond("202", "Accepted", statusMsg)
                        .build();
  }
  paths[item] = std::move(one);

  // Namespaced resources are also listed across all namespaces.
  if (rt.namespaced && hasVerb(rt, "list")) {
    json::object all = pathItem({}, dialect);
    all["get"] =
        Operation(dialect, "list",
                  "list" + groupWord(rt.group) + camel(rt.version) + rt.kind + "ForAllNamespaces",
                  "list or watch objects of kind " + rt.kind, gvk, tag)
            .params(std::begin(kListParams), std::end(kListParams))
            .respond("200", "OK", listMsg)
            .build();
    paths[prefix + "/" + rt.plural] = std::move(all);
  }

  // Subresources whose bodies are API objects: status (same kind), scale (autoscaling/v1).
  struct Sub {
    std::string_view name;
    std::string suffix;
    GroupVersionKind gvk;
    std::string message;
  };
  std::vector<Sub> subs;
  if (rt.hasSubresource("status")) subs.push_back({"status", "Status", gvk, kindMsg});
  if (rt.hasSubresource("scale")) {
    subs.push_back({"scale", "Scale", GroupVersionKind{"autoscaling", "v1", "Scale"},
                    std::string(kScaleMessage)});
  }
  for (const Sub& s : subs) {
    json::object sub = pathItem(itemParams, dialect);
    const std::string what = std::string(s.name) + " of the specified " + rt.kind;
    sub["get"] = Operation(dialect, "get", "read" + idCore + s.suffix, "read " + what, s.gvk, tag)
                     .respond("200", "OK", s.message)
                     .build();
    sub["put"] =
        Operation(dialect, "put", "replace" + idCore + s.suffix, "replace " + what, s.gvk, tag)
            .params({kDryRun, kFieldManager, kFieldValidation})
            .body(s.message)
            .respond("200", "OK", s.message)
            .respond("201", "Created", s.message)
            .build();
    sub["patch"] = Operation(dialect, "patch", "patch" + idCore + s.suffix,
                             "partially update " + what, s.gvk, tag)
                       .params({kDryRun, kFieldManager, kFieldValidation, kForce})
                       .body(patchMsg, /*patch=*/true, strategic)
                       .respond("200", "OK", s.message)
                       .respond("201", "Created", s.message)
                       .build();
    paths[item + "/" + std::string(s.name)] = std::move(sub);
  }
}

}  // namespace berth::apiserver::openapi::internal
