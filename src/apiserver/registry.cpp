#include "apiserver/registry.h"

#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <ctime>
#include <random>

#include "apiserver/patch/apply.h"
#include "apiserver/crd/custom_resource.h"
#include "apiserver/patch/patch.h"
#include "apiserver/prepared_write.h"
#include "apiserver/protobuf/zero_values.h"
#include "apiserver/registry_internal.h"
#include "apiserver/wire_limits.h"
#include "core/base64.h"
#include "core/kinds/deletion.h"
#include "core/kinds/strategy.h"
#include "core/labels.h"
#include "core/resource_behavior.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::ResourceType;
using namespace registry_detail;

namespace {

constexpr auto kFreshWait = std::chrono::seconds(5);

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

std::string newUid() {
  std::uniform_int_distribution<uint64_t> d;
  uint64_t a = d(rng()), b = d(rng());
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// Upstream's generateName suffix: 5 characters from an alphabet without vowels or confusables.
std::string randomSuffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> d(0, kAlphabet.size() - 1);
  std::string s;
  for (int i = 0; i < 5; ++i) s += kAlphabet[d(rng())];
  return s;
}

// Continue tokens are opaque to clients: base64url of {"v","rv","start"}, as upstream encodes
// them: the revision of the list's first page (later pages read the store at that revision, so
// the whole list is one snapshot) and the last key returned. rv -1 continues at the latest
// revision (handed out with the 410 for a compacted token).
constexpr std::string_view kContinueVersion = "meta.k8s.io/v1";

std::string encodeContinue(int64_t rev, const std::string& key) {
  std::string token = core::base64Encode(
      json::serialize(json::object{{"v", kContinueVersion}, {"rv", rev}, {"start", key}}));
  for (char& c : token) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return token;
}

struct ContinuePoint {
  int64_t revision = 0;  // -1: latest
  std::string startAfter;
};

Result<ContinuePoint> decodeContinue(std::string token, const std::string& prefix) {
  auto bad = [](std::string why) {
    return Status::badRequest("invalid continue token: continue key is not valid: " + why);
  };
  for (char& c : token) c = c == '-' ? '+' : c == '_' ? '/' : c;
  auto raw = core::base64Decode(token);
  if (!raw) return bad("illegal base64 data");
  boost::system::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return bad("not a continue token");
  const auto& o = v.as_object();
  auto* ver = o.if_contains("v");
  if (!ver || !ver->is_string() || ver->as_string() != kContinueVersion)
    return bad("server does not recognize this encoded version");
  auto* rv = o.if_contains("rv");
  auto* start = o.if_contains("start");
  if (!rv || !rv->is_int64() || rv->as_int64() == 0 || rv->as_int64() < -1)
    return bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  if (!start || !start->is_string()) return bad("encoded start key is missing");
  std::string key(start->as_string());
  // A forged key must not read outside the listed prefix (upstream rejects path traversal).
  if (key.compare(0, prefix.size(), prefix) != 0 || key.find("/../") != std::string::npos ||
      key.size() == prefix.size())
    return bad("encoded start key does not belong to this list");
  return ContinuePoint{rv->as_int64(), std::move(key)};
}

constexpr std::string_view kContinueExpired =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list.";

// metadata.uid in an update is a precondition (upstream's Preconditions.UID).
Status checkUidPrecondition(const ResourceType& rt, const std::string& name,
                            const std::string& wantUid, const json::object& current) {
  if (wantUid.empty()) return {};
  const auto* m = core::objectField(current, "metadata");
  std::string have = m ? core::stringField(*m, "uid") : "";
  if (wantUid == have) return {};
  return Status::conflict(
      rt.qualifiedResource(), name,
      "Precondition failed: UID in precondition: " + wantUid + ", UID in object meta: " + have);
}

// PUT namespaces/x/finalize changes only spec.finalizers (upstream's finalizeStrategy).
json::object finalizeRequest(const json::object& current, const json::object& request) {
  json::object next = current;
  json::value finalizers = json::array();
  if (const auto* spec = core::objectField(request, "spec"))
    if (auto* f = spec->if_contains("finalizers"); f && f->is_array()) finalizers = *f;
  auto& specV = next["spec"];
  if (!specV.is_object()) specV = json::object();
  specV.as_object()["finalizers"] = std::move(finalizers);
  if (const auto* m = core::objectField(request, "metadata")) {
    if (auto* rv = m->if_contains("resourceVersion")) metaOf(next)["resourceVersion"] = *rv;
  }
  return next;
}

// Upstream's ShouldDeleteDuringUpdate (plus the namespace variant): an update deletes the object
// when it is terminating, its last finalizer is gone, and no grace period is still running.
bool shouldDeleteDuringUpdate(const ResourceType& srt, const json::object& next,
                              const json::object& old) {
  const auto* oldMeta = core::objectField(old, "metadata");
  if (!oldMeta || !oldMeta->contains("deletionTimestamp") || hasFinalizers(next)) return false;
  if (auto* g = oldMeta->if_contains("deletionGracePeriodSeconds");
      g && g->is_int64() && g->as_int64() != 0)
    return false;
  if (srt.kind == "Namespace" && srt.group.empty()) {
    const auto* spec = core::objectField(next, "spec");
    auto* f = spec ? spec->if_contains("finalizers") : nullptr;
    if (f && f->is_array() && !f->as_array().empty()) return false;
  }
  return true;
}

}  // namespace

std::string nowRfc3339() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string storageKey(const ResourceType& rt, const std::string& ns, const std::string& name) {
  return rt.storagePrefix + (rt.namespaced ? ns + "/" : std::string()) + name;
}

Registry::Registry(store::Interface& store, CacheSet& cache, service::Ranges serviceRanges)
    : store_(store), cache_(cache), addresses_(store, serviceRanges) {}

Registry::~Registry() { stop(); }

void Registry::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(bgMu_);
    stopping_ = true;
    threads.swap(background_);
  }
  bgCv_.notify_all();
  for (auto& t : threads) t.join();
}

namespace {
// Whether cached JSON can be served byte for byte. Custom resources are converted (and defaulted,
// as upstream does on read) even in their storage version: objects written before a CRD changed
// its storage version or its defaults still carry the old ones.
bool servedAsStored(const ResourceType& rt) { return rt.isStorageVersion() && !rt.behavior; }

// Whether a write of `rt` is validated in the request's version, on a converted copy (a custom
// resource served in a version other than its storage version; see validateWrite).
bool validatedInRequestVersion(const ResourceType& rt) {
  return rt.behavior && !rt.isStorageVersion();
}

// A stored object in `rt`'s served version, for the write paths: what the store returned is in
// the storage version, or (a custom resource written before its CRD changed storage version) in
// an older one.
Status servedFrom(const ResourceType& rt, json::object& obj) {
  if (rt.isStorageVersion() &&
      (!rt.behavior || core::stringField(obj, "apiVersion") == rt.apiVersion()))
    return {};
  return core::kinds::convertFromStorage(rt, obj);
}

// The validation errors of a write, judged in the version the request came in: upstream's
// custom resource strategy validates the object before the storage codec converts it, so the
// request version's schema and rules apply (a v1 request is not held to v2's schema) and the
// errors name that version's fields. Our registry converts first, so a custom object served
// from another version is converted back for the check; that copy is kept in `*served` and
// becomes the answer (answerFrom), so a Webhook strategy costs what upstream's does: one call
// to encode the request and one to decode the answer, plus one for the old object of an update
// (none more when `oldServed`, the old object already in the request version, is given).
Result<core::kinds::FieldErrors> validateWrite(const ResourceType& rt, const ResourceType& srt,
                                               const json::object& obj, const json::object* old,
                                               const json::object* oldServed,
                                               std::vector<std::string>* warnings,
                                               std::optional<json::object>* served) {
  if (!validatedInRequestVersion(rt)) {
    return old ? core::kinds::validateUpdate(srt, obj, *old, warnings)
               : core::kinds::validateCreate(srt, obj);
  }
  served->emplace(obj);
  if (auto st = core::kinds::convertFromStorage(rt, **served); !st.ok()) return st;
  if (!old) return core::kinds::validateCreate(rt, **served);
  json::object servedOld = oldServed ? *oldServed : *old;
  if (!oldServed) {
    if (auto st = servedFrom(rt, servedOld); !st.ok()) return st;
  }
  return core::kinds::validateUpdate(rt, **served, servedOld, warnings);
}

// The answer to a write of `written` (storage version) in `rt`'s version. When validateWrite
// converted the object, its copy is the answer with the metadata written (resourceVersion,
// generation and managedFields are set after validation); labels and annotations stay as the
// conversion returned them, as converting `written` again would return them. Otherwise the
// written object is converted.
Status answerFrom(const ResourceType& rt, json::object& written,
                  std::optional<json::object>& served) {
  if (!served) return servedFrom(rt, written);
  json::object meta = metaOf(written);
  const json::object& convertedMeta = metaOf(*served);
  for (const char* k : {"labels", "annotations"}) {
    if (const json::value* v = convertedMeta.if_contains(k)) {
      meta[k] = *v;
    } else {
      meta.erase(k);
    }
  }
  written = std::move(*served);
  written["metadata"] = std::move(meta);
  return {};
}

// Whether a list's items are converted together (one conversion webhook call per list, as
// upstream); others are converted one at a time, never all held parsed at once.
bool convertsListAtOnce(const ResourceType& rt) {
  return !servedAsStored(rt) && rt.behavior && rt.behavior->convertsRemotely();
}

json::object parseCached(const CachedObject& obj) {
  boost::system::error_code ec;
  auto v = json::parse(obj.json, ec);
  return v.is_object() ? std::move(v.as_object()) : json::object();
}
}  // namespace

Result<json::object> Registry::served(const ResourceType& rt, const CachedObject& obj) const {
  json::object o = parseCached(obj);
  if (!servedAsStored(rt)) {
    if (auto st = core::kinds::convertFromStorage(rt, o); !st.ok()) return st;
  }
  if (!rt.isStorageVersion()) protobuf::addGoZeroValues(o);
  return o;
}

Result<std::string> Registry::servedJson(const ResourceType& rt, const CachedObject& obj) const {
  if (servedAsStored(rt)) return obj.json;
  auto o = served(rt, obj);
  if (!o.ok()) return o.status();
  return json::serialize(*o);
}

Result<std::vector<json::object>> Registry::servedList(const ResourceType& rt,
                                                       const std::vector<ObjectPtr>& items) const {
  std::vector<json::object> out;
  out.reserve(items.size());
  if (!convertsListAtOnce(rt)) {
    for (const auto& o : items) {
      auto one = served(rt, *o);
      if (!one.ok()) return one.status();
      out.push_back(std::move(*one));
    }
    return out;
  }
  std::vector<json::object*> ptrs;
  for (const auto& o : items) out.push_back(parseCached(*o));
  for (auto& o : out) ptrs.push_back(&o);
  if (auto st = core::kinds::convertListFromStorage(rt, ptrs); !st.ok()) return st;
  if (!rt.isStorageVersion()) {
    for (auto& o : out) protobuf::addGoZeroValues(o);
  }
  return out;
}

Status Registry::forEachServedJson(const ResourceType& rt, const std::vector<ObjectPtr>& items,
                                   const std::function<void(const std::string&)>& fn) const {
  if (!convertsListAtOnce(rt)) {
    for (const auto& o : items) {
      if (servedAsStored(rt)) {
        fn(o->json);
        continue;
      }
      auto one = servedJson(rt, *o);
      if (!one.ok()) return one.status();
      fn(*one);
    }
    return {};
  }
  auto all = servedList(rt, items);
  if (!all.ok()) return all.status();
  for (const auto& o : *all) fn(json::serialize(o));
  return {};
}

// Kinds converted in-process cannot fail to convert; should a conversion fail all the same, the
// object is given as stored.
json::object Registry::toServed(const ResourceType& rt, const CachedObject& obj) const {
  auto o = served(rt, obj);
  return o.ok() ? std::move(*o) : parseCached(obj);
}

std::string Registry::toServedJson(const ResourceType& rt, const CachedObject& obj) const {
  auto o = servedJson(rt, obj);
  return o.ok() ? std::move(*o) : obj.json;
}

void Registry::appendServedJson(const ResourceType& rt, const CachedObject& obj,
                                std::string& out) const {
  if (servedAsStored(rt)) {
    out += obj.json;
  } else {
    out += toServedJson(rt, obj);
  }
}

// ---------------------------------------------------------------- reads

Result<int64_t> parseResourceVersion(const std::string& rv) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), n);
  if (ec != std::errc() || end != rv.data() + rv.size() || n < 0)
    return Status::badRequest("invalid resource version: \"" + rv + "\"");
  return n;
}

// Upstream's storage.NewTooLargeResourceVersionError: 504 Timeout, with a cause clients check.
Status tooLargeResourceVersion(int64_t wanted, int64_t current) {
  return Status::timeout("Too large resource version: " + std::to_string(wanted) +
                         ", current: " + std::to_string(current))
      .withCauses({core::StatusCause{"ResourceVersionTooLarge", "Too large resource version", ""}})
      .withRetryAfter(1);
}

Result<Selectors> parseSelectors(const ResourceType& rt, const std::string& labelSelector,
                                 const std::string& fieldSelector) {
  auto labels = core::LabelSelector::parse(labelSelector);
  if (!labels.ok()) return labels.status();
  auto fields = core::FieldSelector::parse(fieldSelector);
  if (!fields.ok()) return fields.status();
  for (const auto& r : fields->requirements()) {
    if (!core::kinds::isSelectableField(rt, r.field)) {
      return Status::badRequest("field label not supported: " + r.field);
    }
  }
  return Selectors{std::move(*labels), std::move(*fields)};
}

Status validateListOptions(const ListRequest& req, bool watch,
                           const std::optional<bool>& sendInitialEvents) {
  std::vector<core::StatusCause> errs;
  auto forbidden = [&](const char* field, std::string why) {
    errs.push_back(cause("FieldValueForbidden", field, "Forbidden: " + why));
  };
  const std::string& match = req.resourceVersionMatch;
  if (watch) {
    if (sendInitialEvents && match != "NotOlderThan")
      forbidden("resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    if (!match.empty()) {
      if (!sendInitialEvents)
        forbidden("resourceVersionMatch",
                  "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                  "provided");
      if (match != "NotOlderThan")
        errs.push_back(
            cause("FieldValueNotSupported", "resourceVersionMatch",
                  "Unsupported value: \"" + match + "\": supported values: \"NotOlderThan\""));
      if (!req.continueToken.empty())
        forbidden("resourceVersionMatch",
                  "resourceVersionMatch is forbidden when continue is provided");
    }
  } else {
    if (!match.empty()) {
      if (req.resourceVersion.empty())
        forbidden("resourceVersionMatch",
                  "resourceVersionMatch is forbidden unless resourceVersion is provided");
      if (!req.continueToken.empty())
        forbidden("resourceVersionMatch",
                  "resourceVersionMatch is forbidden when continue is provided");
      if (match != "Exact" && match != "NotOlderThan")
        errs.push_back(cause("FieldValueNotSupported", "resourceVersionMatch",
                             "Unsupported value: \"" + match +
                                 "\": supported values: \"Exact\", \"NotOlderThan\", \"\""));
      if (match == "Exact" && req.resourceVersion == "0")
        forbidden("resourceVersionMatch",
                  "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }
    if (sendInitialEvents)
      forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list");
  }
  if (!errs.empty()) return Status::invalid("meta.k8s.io", "ListOptions", "", std::move(errs));
  if (!req.continueToken.empty() && !req.resourceVersion.empty() && req.resourceVersion != "0")
    return Status::badRequest("specifying resource version is not allowed when using continue");
  return {};
}

Status Registry::waitFresh() {
  int64_t want = store_.currentRevision();
  if (cache_.waitForRevision(want, kFreshWait)) return {};
  return Status::timeout("Timeout: the watch cache did not catch up with revision " +
                         std::to_string(want) + " (at " + std::to_string(cache_.revision()) +
                         ") in time; retry the request")
      .withRetryAfter(1);
}

Result<ObjectPtr> Registry::get(const ResourceType& rt, const std::string& ns,
                                const std::string& name) {
  auto* c = cache_.forType(rt);
  if (!c) return Status::notFound(rt.qualifiedResource(), name);
  if (auto st = waitFresh(); !st.ok()) return st;
  auto obj = c->get(storageKey(rt, ns, name));
  if (!obj) return Status::notFound(rt.qualifiedResource(), name);
  return obj;
}

// A page (or a whole list) read from the store at `revision` (0 = current): continued lists and
// exact-revision lists, which the cache (current state only) cannot answer.
Result<ListResponse> Registry::listFromStore(const ResourceType& rt, const std::string& prefix,
                                             const std::string& startAfter, int64_t revision,
                                             int64_t limit, const core::LabelSelector& labels,
                                             const core::FieldSelector& fields, bool selectors) {
  const ResourceType& srt = *core::storageResource(rt);
  ListResponse out;
  store::ListOptions lo;
  lo.prefix = prefix;
  lo.startAfter = startAfter;
  lo.revision = revision;
  // With selectors a page may need several store pages to fill.
  lo.limit = limit > 0 ? std::max<int64_t>(limit, selectors ? 500 : limit) : 0;
  while (true) {
    auto page = store_.list(lo);
    if (!page.ok()) return page.status();
    out.revision = page->revision;
    lo.revision = page->revision;  // every further store page from the same snapshot
    for (size_t i = 0; i < page->items.size(); ++i) {
      const auto& kv = page->items[i];
      auto o = decodeStoredObject(srt, kv, kv.modRevision);
      if (!labels.matches(o->labels) || !o->matches(fields)) continue;
      out.items.push_back(std::move(o));
      if (limit > 0 && int64_t(out.items.size()) == limit) {
        bool more = i + 1 < page->items.size() || page->more;
        if (more) {
          out.continueToken = encodeContinue(out.revision, out.items.back()->key);
          if (!selectors) out.remaining = int64_t(page->items.size() - i - 1) + page->remaining;
        }
        return out;
      }
    }
    if (!page->more || page->items.empty()) return out;
    lo.startAfter = page->items.back().key;
  }
}

Result<ListResponse> Registry::list(const ResourceType& rt, const ListRequest& req) {
  auto parsed = parseSelectors(rt, req.labelSelector, req.fieldSelector);
  if (!parsed.ok()) return parsed.status();
  const core::LabelSelector* labels = &parsed->labels;
  const core::FieldSelector* fields = &parsed->fields;
  if (auto st = validateListOptions(req, false, std::nullopt); !st.ok()) return st;
  auto* c = cache_.forType(rt);
  if (!c) return ListResponse{};
  std::string prefix = rt.storagePrefix;
  if (rt.namespaced && !req.namespace_.empty()) prefix += req.namespace_ + "/";
  bool selectors = !req.labelSelector.empty() || !req.fieldSelector.empty();
  int64_t limit = std::max<int64_t>(req.limit, 0);

  if (!req.continueToken.empty()) {
    auto point = decodeContinue(req.continueToken, prefix);
    if (!point.ok()) return point.status();
    int64_t rev = point->revision == -1 ? 0 : point->revision;
    if (rev > 0 && rev < store_.compactedRevision())
      return Status::expired(std::string(kContinueExpired));
    auto page =
        listFromStore(rt, prefix, point->startAfter, rev, limit, *labels, *fields, selectors);
    if (!page.ok() && page.status().isExpired())
      return Status::expired(std::string(kContinueExpired));
    return page;
  }

  int64_t atLeast = 0;  // served from the cache once it has seen this revision
  if (req.resourceVersion.empty()) {
    if (auto st = waitFresh(); !st.ok()) return st;
  } else if (req.resourceVersion == "0") {
    limit = 0;  // upstream's cache ignores limit for resourceVersion=0 (client-go's first list)
  } else {
    auto rv = parseResourceVersion(req.resourceVersion);
    if (!rv.ok()) return rv.status();
    bool exact =
        req.resourceVersionMatch == "Exact" || (req.resourceVersionMatch.empty() && limit > 0);
    if (exact) {
      int64_t current = store_.currentRevision();
      if (*rv > current) return tooLargeResourceVersion(*rv, current);
      if (*rv < store_.compactedRevision())
        return Status::expired("The resourceVersion for the provided list is too old.");
      auto r = listFromStore(rt, prefix, "", *rv, limit, *labels, *fields, selectors);
      if (!r.ok() && r.status().isExpired())
        return Status::expired("The resourceVersion for the provided list is too old.");
      return r;
    }
    atLeast = *rv;
    // Upstream's cacher waits up to 3 s for a revision it has not seen yet.
    if (!cache_.waitForRevision(atLeast, std::chrono::seconds(3)))
      return tooLargeResourceVersion(atLeast, cache_.revision());
  }

  ListResponse out;
  // Read the global revision before the snapshot: every event up to it is already applied, so
  // the snapshot reflects max(global, its own) revision for this resource.
  int64_t global = cache_.revision();
  auto all = c->list(prefix, &out.revision);
  out.revision = std::max(out.revision, global);
  size_t matched = 0;
  for (const auto& o : all) {
    if (!labels->matches(o->labels)) continue;
    if (!o->matches(*fields)) continue;
    if (limit > 0 && int64_t(out.items.size()) >= limit) {
      // Count what is left for remainingItemCount (only without selectors, like upstream).
      ++matched;
      continue;
    }
    out.items.push_back(o);
  }
  if (matched > 0) {
    out.continueToken = encodeContinue(out.revision, out.items.back()->key);
    if (!selectors) out.remaining = matched;
  }
  return out;
}

// ---------------------------------------------------------------- create

Status Registry::checkNamespace(const ResourceType& rt, const std::string& ns) {
  if (!rt.namespaced) return {};
  const auto* nsType = core::findResource("", "v1", "namespaces");
  auto* c = cache_.forType(*nsType);
  // Namespaces change rarely: only a miss waits for the cache to catch up with the store.
  auto obj = c->get(storageKey(*nsType, "", ns));
  if (!obj) {
    if (auto st = waitFresh(); !st.ok()) return st;
    obj = c->get(storageKey(*nsType, "", ns));
  }
  if (!obj) return Status::notFound("namespaces", ns);
  // Parsed only when it may be terminating: this runs on every namespaced create.
  if (obj->json.find("\"deletionTimestamp\"") == std::string::npos) return {};
  auto parsed = parseStored(obj->json);
  const auto* nsMeta = parsed.ok() ? core::objectField(*parsed, "metadata") : nullptr;
  if (nsMeta && nsMeta->contains("deletionTimestamp")) {
    return Status::forbidden("unable to create new content in namespace " + ns +
                             " because it is being terminated")
        .withDetails(ns, "", "namespaces");
  }
  return {};
}

Result<int64_t> Registry::storeWrite(const ResourceType& srt, const std::string& key,
                                    const json::object& obj,
                                    const std::function<Result<int64_t>(std::string_view)>& write,
                                    std::string* storedJson) {
  ResourceCache* cache = cache_.forType(srt);
  auto prepared = cache ? prepareWrite(srt, key, obj) : nullptr;
  if (!prepared) {
    std::string value = json::serialize(obj);
    if (auto st = checkStoredSize(key, value); !st.ok()) return st;
    return write(value);
  }
  if (auto st = checkStoredSize(key, prepared->value); !st.ok()) return st;
  cache->expectWrite(prepared);
  auto rev = write(prepared->value);
  cache->settleWrite(key, prepared, rev.ok() ? *rev : 0);
  if (rev.ok() && storedJson) *storedJson = storedJsonAt(*prepared, *rev);
  return rev;
}

Result<json::object> Registry::persistCreate(const ResourceType& srt, json::object obj,
                                             bool dryRun, std::string* storedJson) {
  auto& meta = metaOf(obj);
  meta.erase("resourceVersion");
  std::string ns = core::stringField(meta, "namespace");
  std::string name = core::stringField(meta, "name");
  protobuf::addGoZeroValues(obj);
  if (dryRun) return obj;  // never reaches etcd, so never meets its size limit
  std::string key = storageKey(srt, ns, name);
  auto rev = storeWrite(
      srt, key, obj, [&](std::string_view value) { return store_.create(key, value); },
      storedJson);
  if (!rev.ok()) {
    if (rev.status().isAlreadyExists()) return Status::alreadyExists(srt.qualifiedResource(), name);
    return rev.status();
  }
  metaOf(obj)["resourceVersion"] = std::to_string(*rev);  // the fill above may move members
  return obj;
}

Status Registry::admitWrite(admission::Operation op, const ResourceType& srt,
                            const std::string& ns, const std::string& name, json::object* obj,
                            const json::object* old, const std::string& subresource,
                            const core::kinds::Requester& user, bool dryRun,
                            std::vector<std::string>* warnings,
                            std::map<std::string, std::string>* auditAnnotations, bool mutate) {
  admission::Attributes a;
  a.operation = op;
  a.resource = &srt;
  a.ns = ns;
  a.name = name;
  a.subresource = subresource;
  a.user = user;
  a.object = obj;
  a.oldObject = old;
  a.dryRun = dryRun;
  a.warnings = warnings;
  a.auditAnnotations = auditAnnotations;
  return mutate ? admission_->admit(a) : admission_->validate(a);
}

Result<json::object> Registry::create(const ResourceType& rt, const std::string& ns,
                                      json::object obj, const WriteOptions& opts) {
  const ResourceType& srt = *core::storageResource(rt);
  // kind/apiVersion must name this resource (clients may omit them).
  std::string kind = core::stringField(obj, "kind"),
              apiVersion = core::stringField(obj, "apiVersion");
  if ((!kind.empty() && kind != rt.kind) ||
      (!apiVersion.empty() && apiVersion != rt.apiVersion())) {
    return Status::badRequest("the API version in the data (" + apiVersion + ") and kind (" + kind +
                              ") do not match the resource " + rt.qualifiedResource() + " of " +
                              rt.apiVersion());
  }
  obj["kind"] = rt.kind;
  obj["apiVersion"] = rt.apiVersion();
  // Taken after the inserts above: inserting into obj may move its members.
  auto& meta = metaOf(obj);
  if (rt.namespaced) {
    std::string objNs = core::stringField(meta, "namespace");
    if (!objNs.empty() && objNs != ns) {
      return Status::badRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  std::string name = core::stringField(meta, "name");
  std::string generateName = core::stringField(meta, "generateName");
  if (name.empty() && !generateName.empty()) {
    name = generateNameBase(generateName) + randomSuffix();
    meta["name"] = name;
  }
  if (auto st = core::kinds::convertToStorage(rt, obj); !st.ok()) return st;
  auto& m = metaOf(obj);
  m["uid"] = newUid();
  m["creationTimestamp"] = nowRfc3339();
  m.erase("deletionTimestamp");
  m.erase("deletionGracePeriodSeconds");
  m.erase("resourceVersion");
  m.erase("selfLink");
  core::kinds::prepareForCreate(srt, obj);
  core::kinds::recordRequester(srt, obj, opts.requester);
  core::kinds::applyDefaults(srt, obj);
  // managedFields record what the request set (with its defaults), before mutating admission,
  // as upstream's create handler runs its field manager first: fields a plugin or webhook adds
  // (the kube-api-access volume, an allocated clusterIP) belong to no manager.
  if (!opts.fieldManager.empty())
    patch::recordUpdate(obj, nullptr, srt, opts.fieldManager, nowRfc3339());
  if (admission_) {
    if (auto st = admitWrite(admission::Operation::kCreate, srt, ns, name, &obj, nullptr,
                             opts.subresource, opts.requester, opts.dryRun, opts.warnings,
                             opts.auditAnnotations, true);
        !st.ok())
      return st;
    core::kinds::applyDefaults(srt, obj);  // what a mutating plugin added gets its defaults
  }
  std::optional<json::object> served;  // obj in the request's version, once validated
  auto errors = validateWrite(rt, srt, obj, nullptr, nullptr, nullptr, &served);
  if (!errors.ok()) return errors.status();
  if (!errors->empty()) return Status::invalid(rt.group, rt.kind, name, std::move(*errors));
  if (auto st = checkNamespace(rt, ns); !st.ok()) return st;
  if (admission_) {
    if (auto st = admitWrite(admission::Operation::kCreate, srt, ns, name, &obj, nullptr,
                             opts.subresource, opts.requester, opts.dryRun, opts.warnings,
                             opts.auditAnnotations, false);
        !st.ok())
      return st;
  }
  std::optional<service::Allocation> addresses;  // released unless the write succeeds
  if (srt.kind == "Service" && srt.group.empty()) {
    auto a = addresses_.allocate(obj, nullptr, opts.dryRun);
    if (!a.ok()) return a.status();
    addresses.emplace(std::move(*a));
  }
  auto created = persistCreate(srt, std::move(obj), opts.dryRun,
                               servedAsStored(rt) ? opts.storedJson : nullptr);
  if (!created.ok()) return created;
  if (addresses) addresses->commit();
  if (auto st = answerFrom(rt, *created, served); !st.ok()) return st;
  return created;
}

// ---------------------------------------------------------------- update

Result<Registry::Current> Registry::readCurrent(const ResourceType& srt, const std::string& key,
                                                const std::string& name) {
  auto kv = store_.get(key);
  if (!kv.ok()) {
    if (kv.status().isNotFound()) return Status::notFound(srt.qualifiedResource(), name);
    return kv.status();
  }
  auto obj = parseStored(kv->value);
  if (!obj.ok()) return obj.status();
  // A custom object written before its CRD changed storage version is converted first, so
  // updates compare and patch it in the current one (upstream decodes it to the request's).
  if (srt.behavior && core::stringField(*obj, "apiVersion") != srt.apiVersion()) {
    if (auto st = core::kinds::convertFromStorage(srt, *obj); !st.ok()) return st;
  }
  metaOf(*obj)["resourceVersion"] = std::to_string(kv->modRevision);
  return Current{std::move(*obj), kv->modRevision, kv->stale};
}

Result<json::object> Registry::persistUpdate(const ResourceType& srt, json::object obj,
                                             int64_t modRevision, bool dryRun,
                                             std::string* storedJson) {
  auto& meta = metaOf(obj);
  std::string ns = core::stringField(meta, "namespace");
  std::string name = core::stringField(meta, "name");
  meta.erase("resourceVersion");
  protobuf::addGoZeroValues(obj);
  if (dryRun) {
    metaOf(obj)["resourceVersion"] = std::to_string(modRevision);
    return obj;
  }
  std::string key = storageKey(srt, ns, name);
  auto rev = storeWrite(
      srt, key, obj,
      [&](std::string_view value) { return store_.update(key, value, modRevision); }, storedJson);
  if (!rev.ok()) {
    if (rev.status().isConflict())
      return Status::staleResourceVersion(srt.qualifiedResource(), name);
    if (rev.status().isNotFound()) return Status::notFound(srt.qualifiedResource(), name);
    return rev.status();
  }
  metaOf(obj)["resourceVersion"] = std::to_string(*rev);
  return obj;
}

Result<json::object> Registry::deleteNow(const ResourceType& srt, const std::string& key,
                                         const std::string& name, int64_t modRevision) {
  auto kv = store_.remove(key, modRevision);
  if (!kv.ok()) {
    if (kv.status().isConflict())
      return Status::staleResourceVersion(srt.qualifiedResource(), name);
    if (kv.status().isNotFound()) return Status::notFound(srt.qualifiedResource(), name);
    return kv.status();
  }
  auto obj = parseStored(kv->value);
  if (!obj.ok()) return obj.status();
  if (srt.kind == "Service" && srt.group.empty()) addresses_.release(*obj);
  metaOf(*obj)["resourceVersion"] = std::to_string(kv->modRevision);
  return obj;
}

namespace {

// Whether two objects are equal once metadata.resourceVersion and metadata.managedFields are
// left out of both (json::object's own equality, member order ignored), without copying them.
bool sameIgnoringVersionAndManagedFields(const json::object& a, const json::object& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end()) return false;
    if (key != "metadata" || !value.is_object() || !it->value().is_object()) {
      if (value != it->value()) return false;
      continue;
    }
    const json::object& ma = value.get_object();
    const json::object& mb = it->value().get_object();
    auto ignored = [](std::string_view k) {
      return k == "resourceVersion" || k == "managedFields";
    };
    size_t keptA = 0, keptB = 0;
    for (const auto& [k, v] : ma) {
      if (ignored(k)) continue;
      ++keptA;
      auto m = mb.find(k);
      if (m == mb.end() || v != m->value()) return false;
    }
    for (const auto& [k, v] : mb)
      if (!ignored(k)) ++keptB;
    if (keptA != keptB) return false;
  }
  return true;
}

}  // namespace

Result<json::object> Registry::finishUpdate(const ResourceType& rt, const ResourceType& srt,
                                            const std::string& ns, const std::string& name,
                                            json::object next, const Current& cur,
                                            const WriteOptions& opts) {
  const json::object& old = cur.obj;
  next["kind"] = srt.kind;
  next["apiVersion"] = srt.apiVersion();
  // Taken after the inserts above: inserting into next may move its members.
  auto& meta = metaOf(next);
  const auto* oldMeta = core::objectField(old, "metadata");
  // Fields clients may not change through an update.
  for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation"}) {
    if (oldMeta && oldMeta->contains(k)) {
      meta[k] = oldMeta->at(k);
    } else {
      meta.erase(k);
    }
  }
  if (rt.namespaced) meta["namespace"] = ns;
  meta["name"] = name;
  bool statusUpdate = opts.subresource == "status";
  json::value finalizers;
  if (opts.subresource == "finalize") {
    if (const auto* spec = core::objectField(next, "spec")) finalizers = spec->at("finalizers");
  }
  core::kinds::prepareForUpdate(srt, next, old, opts.subresource);
  if (opts.subresource == "finalize") {
    auto& specV = next["spec"];
    if (!specV.is_object()) specV = json::object();
    specV.as_object()["finalizers"] = finalizers;
  }
  core::kinds::applyDefaults(srt, next);
  // Before mutating admission, as for a create (upstream's update handler runs its field
  // manager as the first transformer).
  if (!opts.fieldManager.empty())
    patch::recordUpdate(next, &old, srt, opts.fieldManager, nowRfc3339(),
                        statusUpdate ? "status" : "");
  if (admission_) {
    if (auto st = admitWrite(admission::Operation::kUpdate, srt, ns, name, &next, &old,
                             opts.subresource, opts.requester, opts.dryRun, opts.warnings,
                             opts.auditAnnotations, true);
        !st.ok())
      return st;
    core::kinds::applyDefaults(srt, next);
  }
  std::optional<json::object> served;  // next in the request's version, once validated
  auto errors = validateWrite(rt, srt, next, &old, cur.served ? &*cur.served : nullptr,
                              opts.warnings, &served);
  if (!errors.ok()) return errors.status();
  if (!errors->empty()) return Status::invalid(rt.group, rt.kind, name, std::move(*errors));
  if (admission_) {
    if (auto st = admitWrite(admission::Operation::kUpdate, srt, ns, name, &next, &old,
                             opts.subresource, opts.requester, opts.dryRun, opts.warnings,
                             opts.auditAnnotations, false);
        !st.ok())
      return st;
  }
  std::optional<service::Allocation> addresses;  // released unless the write succeeds
  if (srt.kind == "Service" && srt.group.empty()) {
    auto a = addresses_.allocate(next, &old, opts.dryRun);
    if (!a.ok()) return a.status();
    addresses.emplace(std::move(*a));
  }
  core::kinds::setGenerationAfterUpdate(srt, next, old, statusUpdate);
  // No-op updates do not write (upstream skips them too), so the resourceVersion stays.
  {
    if (!cur.stale && sameIgnoringVersionAndManagedFields(next, old)) {
      if (cur.served) return *cur.served;
      json::object same = old;
      if (auto st = servedFrom(rt, same); !st.ok()) return st;
      return same;
    }
  }
  // A terminating object whose last finalizer was removed is deleted now (not while a grace
  // period runs: a terminating pod's status updates must not delete it).
  if (shouldDeleteDuringUpdate(srt, next, old)) {
    if (opts.dryRun) {
      json::object same = old;
      if (auto st = servedFrom(rt, same); !st.ok()) return st;
      return same;
    }
    auto gone = deleteNow(srt, storageKey(srt, ns, name), name, cur.modRevision);
    if (!gone.ok()) return gone;
    if (auto st = servedFrom(rt, *gone); !st.ok()) return st;
    return gone;
  }
  auto written = persistUpdate(srt, std::move(next), cur.modRevision, opts.dryRun,
                               servedAsStored(rt) ? opts.storedJson : nullptr);
  if (!written.ok()) return written;
  if (addresses) addresses->commit();
  if (auto st = answerFrom(rt, *written, served); !st.ok()) return st;
  return written;
}

Result<json::object> Registry::update(const ResourceType& rt, const std::string& ns,
                                      const std::string& name, json::object obj,
                                      const WriteOptions& opts) {
  const ResourceType& srt = *core::storageResource(rt);
  auto& meta = metaOf(obj);
  std::string objName = core::stringField(meta, "name");
  if (!objName.empty() && objName != name) {
    return Status::badRequest("the name of the object (" + objName +
                              ") does not match the name on the URL (" + name + ")");
  }
  if (rt.namespaced) {
    std::string objNs = core::stringField(meta, "namespace");
    if (!objNs.empty() && objNs != ns) {
      return Status::badRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
  }
  std::string kind = core::stringField(obj, "kind");
  if (!kind.empty() && kind != rt.kind) {
    return Status::badRequest("the kind of the object (" + kind + ") does not match " + rt.kind);
  }
  std::string wantRv = core::stringField(meta, "resourceVersion");
  std::string wantUid = core::stringField(meta, "uid");
  if (auto st = core::kinds::convertToStorage(rt, obj); !st.ok()) return st;
  // An update without a resourceVersion is unconditional: like upstream's GuaranteedUpdate it
  // is retried against the newest state when a concurrent writer wins the race.
  for (int attempt = 0;; ++attempt) {
    auto cur = readCurrent(srt, storageKey(srt, ns, name), name);
    if (!cur.ok()) {
      // Upstream lets some kinds be created by PUT (AllowCreateOnUpdate).
      bool createOnUpdate = srt.kind == "Endpoints" || srt.kind == "Lease" || srt.kind == "Event";
      if (cur.status().isNotFound() && createOnUpdate && opts.subresource.empty()) {
        metaOf(obj)["name"] = name;
        if (auto st = servedFrom(rt, obj); !st.ok()) return st;
        return create(rt, ns, std::move(obj), opts);
      }
      return cur.status();
    }
    if (!wantRv.empty() && wantRv != std::to_string(cur->modRevision)) {
      return Status::staleResourceVersion(rt.qualifiedResource(), name);
    }
    if (auto st = checkUidPrecondition(rt, name, wantUid, cur->obj); !st.ok()) return st;
    json::object next = obj;
    if (opts.subresource == "finalize") next = finalizeRequest(cur->obj, obj);
    auto res = finishUpdate(rt, srt, ns, name, std::move(next), *cur, opts);
    if (!res.ok() && res.status().isConflict() && res.status().causes().empty() && wantRv.empty() &&
        attempt < kMaxWriteRetries) {
      continue;
    }
    return res;
  }
}

// ---------------------------------------------------------------- patch

Result<json::object> Registry::applyPatchTo(const ResourceType& rt, json::object current,
                                            const PatchRequest& req, const WriteOptions& opts) {
  json::value doc(std::move(current));
  switch (req.type) {
    case PatchType::kJson: {
      auto r = patch::applyJsonPatch(doc, req.patch);
      if (!r.ok()) return r.status();
      if (!r->is_object()) return Status::badRequest("patch result is not an object");
      return std::move(r->as_object());
    }
    case PatchType::kMerge: {
      auto r = patch::applyMergePatch(std::move(doc), req.patch);
      if (!r.ok()) return r.status();
      if (!r->is_object()) return Status::badRequest("patch result is not an object");
      return std::move(r->as_object());
    }
    case PatchType::kStrategic: {
      auto r = patch::applyStrategicMergePatch(std::move(doc), req.patch, rt);
      if (!r.ok()) return r.status();
      if (!r->is_object()) return Status::badRequest("patch result is not an object");
      return std::move(r->as_object());
    }
    case PatchType::kApply: {
      if (!req.patch.is_object()) return Status::badRequest("apply patch must be an object");
      patch::ApplyOptions ao{opts.fieldManager, req.force, nowRfc3339()};
      ao.subresource = opts.subresource;
      std::vector<core::StatusCause> causes;
      auto r = patch::serverSideApply(&doc.get_object(), req.patch.as_object(), rt, ao, &causes);
      if (!r.ok() && !causes.empty()) return Status(r.status()).withCauses(std::move(causes));
      return r;
    }
  }
  return Status::badRequest("unsupported patch type");
}

Result<json::object> Registry::patch(const ResourceType& rt, const std::string& ns,
                                     const std::string& name, const PatchRequest& req,
                                     const WriteOptions& opts, bool* created) {
  const ResourceType& srt = *core::storageResource(rt);
  if (req.type == PatchType::kApply && opts.fieldManager.empty()) {
    return Status::badRequest(
        "PATCH, application/apply-patch+yaml requests require a fieldManager to be specified");
  }
  if (req.type == PatchType::kStrategic && rt.behavior && !rt.behavior->supportsStrategicMerge()) {
    return Status::unsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  }
  for (int attempt = 0;; ++attempt) {
    auto cur = readCurrent(srt, storageKey(srt, ns, name), name);
    if (!cur.ok()) {
      if (cur.status().isNotFound() && req.type == PatchType::kApply && opts.subresource.empty()) {
        if (!req.patch.is_object()) return Status::badRequest("apply patch must be an object");
        patch::ApplyOptions ao{opts.fieldManager, req.force, nowRfc3339()};
        auto applied = patch::serverSideApply(nullptr, req.patch.as_object(), rt, ao);
        if (!applied.ok()) return applied;
        // The object's namespace comes from the URL, as for a create.
        if (rt.namespaced) metaOf(*applied)["namespace"] = ns;
        auto& m = metaOf(*applied);
        m["name"] = name;
        WriteOptions co = opts;
        co.fieldManager = "";  // managedFields already carry the Apply entry
        json::object obj = std::move(*applied);
        auto made = create(rt, ns, std::move(obj), co);
        if (made.ok() && created) *created = true;
        return made;
      }
      return cur.status();
    }
    json::object served = cur->obj;
    if (auto st = servedFrom(rt, served); !st.ok()) return st;
    // A custom object served in another version keeps its old object in that version for
    // validation (validateWrite), so the patch works on a copy; otherwise it patches in place.
    bool keepServed = validatedInRequestVersion(rt);
    auto patched = keepServed ? applyPatchTo(rt, served, req, opts)
                              : applyPatchTo(rt, std::move(served), req, opts);
    if (!patched.ok()) return patched.status();
    // The patch may not change identity.
    auto& pm = metaOf(*patched);
    if (core::stringField(pm, "name") != name) {
      return Status::badRequest(
          "metadata.name: the name of the object cannot be changed by a patch");
    }
    std::string patchedRv = core::stringField(pm, "resourceVersion");
    if (!patchedRv.empty() && patchedRv != std::to_string(cur->modRevision)) {
      // The patch itself pinned a resourceVersion: honour it as a precondition.
      return Status::staleResourceVersion(rt.qualifiedResource(), name);
    }
    if (auto st = checkUidPrecondition(rt, name, core::stringField(pm, "uid"), cur->obj); !st.ok())
      return st;
    if (auto st = core::kinds::convertToStorage(rt, *patched); !st.ok()) return st;
    WriteOptions wo = opts;
    if (req.type == PatchType::kApply) wo.fieldManager = "";  // apply recorded ownership itself
    if (keepServed) cur->served = std::move(served);
    auto res = finishUpdate(rt, srt, ns, name, std::move(*patched), *cur, wo);
    // Lost a race with another writer: re-apply the patch to the newest state, as upstream's
    // patcher does. A patch that pins metadata.resourceVersion fails the check above on the
    // next round (its value no longer matches), so it still answers 409.
    if (!res.ok() && res.status().isConflict() && res.status().causes().empty() &&
        attempt < kMaxWriteRetries) {
      continue;
    }
    return res;
  }
}

// ---------------------------------------------------------------- delete

Result<json::object> Registry::remove(const ResourceType& rt, const std::string& ns,
                                      const std::string& name, const DeleteOptions& opts) {
  const ResourceType& srt = *core::storageResource(rt);
  std::string key = storageKey(srt, ns, name);
  for (int attempt = 0; attempt < kMaxWriteRetries; ++attempt) {
    auto cur = readCurrent(srt, key, name);
    if (!cur.ok()) return cur.status();
    json::object obj = cur->obj;
    auto& meta = metaOf(obj);
    if (!opts.preconditionUid.empty() && opts.preconditionUid != core::stringField(meta, "uid")) {
      return Status::conflict(rt.qualifiedResource(), name,
                              "Precondition failed: UID in precondition: " + opts.preconditionUid +
                                  ", UID in object meta: " + core::stringField(meta, "uid"));
    }
    if (!opts.preconditionResourceVersion.empty() &&
        opts.preconditionResourceVersion != std::to_string(cur->modRevision)) {
      return Status::conflict(
          rt.qualifiedResource(), name,
          "Precondition failed: ResourceVersion in precondition: " +
              opts.preconditionResourceVersion +
              ", ResourceVersion in object meta: " + std::to_string(cur->modRevision));
    }
    if (admission_ && attempt == 0) {
      if (auto st = admitWrite(admission::Operation::kDelete, srt, ns, name, nullptr, &cur->obj,
                               "", opts.requester, opts.dryRun, opts.warnings,
                             opts.auditAnnotations, false);
          !st.ok())
        return st;
    }
    bool isNamespace = srt.kind == "Namespace" && srt.group.empty();
    bool alreadyTerminating = meta.contains("deletionTimestamp");
    // Propagation policy becomes a finalizer, as upstream's deletion strategy does. A namespace
    // takes only an explicit policy, and only on its first delete (upstream's namespace REST).
    bool finalizersChanged = false;
    if (!isNamespace)
      finalizersChanged = core::kinds::applyPropagationPolicy(srt, meta, opts.propagationPolicy);
    else if (!alreadyTerminating && !opts.propagationPolicy.empty())
      finalizersChanged = core::kinds::applyPropagationPolicy(srt, meta, opts.propagationPolicy);

    bool graceful = false;
    int64_t grace = 0;
    if (srt.kind == "Pod" && srt.group.empty()) {
      // Pods bound to a node terminate gracefully: the kubelet stops the containers and then
      // deletes the pod with grace period 0. Unbound pods have nothing to stop.
      const auto* spec = core::objectField(obj, "spec");
      bool bound = spec && !core::stringField(*spec, "nodeName").empty();
      grace = 30;
      if (spec) {
        if (auto* g = spec->if_contains("terminationGracePeriodSeconds"); g && g->is_int64())
          grace = g->as_int64();
      }
      if (opts.gracePeriodSeconds) grace = *opts.gracePeriodSeconds;
      std::string phase;
      if (const auto* st = core::objectField(obj, "status"))
        phase = core::stringField(*st, "phase");
      graceful = bound && grace > 0 && phase != "Succeeded" && phase != "Failed";
    }
    if (isNamespace) {
      if (name == "default" || name == "kube-system" || name == "kube-public") {
        return Status::forbidden("namespaces \"" + name +
                                 "\" is forbidden: this namespace may not be deleted")
            .withDetails(name, "", "namespaces");
      }
    }
    if (hasFinalizers(obj) || graceful || isNamespace) {
      int64_t runningGrace = 0;
      if (auto* g = meta.if_contains("deletionGracePeriodSeconds"); g && g->is_int64())
        runningGrace = g->as_int64();
      // Already terminating: a second delete may only shorten the grace period. A namespace's
      // deletion loop is restarted if it is not running (e.g. after a restart of the server).
      // A terminating namespace goes on a later delete once spec.finalizers is empty (the
      // namespace controller deletes it so after a crash between finalize and delete).
      if (isNamespace && alreadyTerminating && !hasFinalizers(obj) && !hasSpecFinalizers(obj)) {
        if (opts.dryRun) return cur->obj;
        auto gone = deleteNow(srt, key, name, cur->modRevision);
        if (!gone.ok() && gone.status().isConflict()) continue;
        return gone;
      }
      if (alreadyTerminating && (graceful ? grace >= runningGrace : runningGrace == 0)) {
        // Upstream lets a later delete of a terminating object (no grace period running)
        // change its GC finalizers, e.g. --cascade=background after a stuck orphan delete
        // (when none is left, the object was deleted below without entering this branch).
        bool refinalize = !isNamespace && runningGrace == 0 && finalizersChanged;
        if (!refinalize) {
          json::object out = cur->obj;
          if (auto st = servedFrom(rt, out); !st.ok()) return st;
          return out;
        }
      }
      if (alreadyTerminating && runningGrace > 0 && !graceful && !hasFinalizers(obj)) {
        // Grace period cut to 0 on a terminating object without finalizers: delete now.
        if (opts.dryRun) return cur->obj;
        auto gone = deleteNow(srt, key, name, cur->modRevision);
        if (!gone.ok() && gone.status().isConflict()) continue;
        if (!gone.ok()) return gone;
        if (auto st = servedFrom(rt, *gone); !st.ok()) return st;
        return gone;
      }
      if (!alreadyTerminating) meta["deletionTimestamp"] = nowRfc3339();
      meta["deletionGracePeriodSeconds"] = graceful ? grace : 0;
      if (isNamespace) {
        auto& st = obj["status"];
        if (!st.is_object()) st = json::object();
        st.as_object()["phase"] = "Terminating";
      }
      auto written = persistUpdate(srt, std::move(obj), cur->modRevision, opts.dryRun);
      if (!written.ok() && written.status().isConflict()) continue;
      if (!written.ok()) return written;
      if (auto st = servedFrom(rt, *written); !st.ok()) return st;
      return written;
    }
    if (opts.dryRun) return cur->obj;
    auto gone = deleteNow(srt, key, name, cur->modRevision);
    if (!gone.ok() && gone.status().isConflict()) continue;
    if (!gone.ok()) return gone;
    if (auto st = servedFrom(rt, *gone); !st.ok()) return st;
    return gone;
  }
  return Status::staleResourceVersion(rt.qualifiedResource(), name);
}

Result<int64_t> Registry::removeCollection(const ResourceType& rt, const ListRequest& req,
                                           const DeleteOptions& opts) {
  auto listed = list(rt, req);
  if (!listed.ok()) return listed.status();
  int64_t n = 0;
  for (const auto& o : listed->items) {
    auto r = remove(rt, o->namespace_, o->name, opts);
    if (r.ok())
      ++n;
    else if (!r.status().isNotFound())
      return r.status();
  }
  return n;
}

// ---------------------------------------------------------------- bootstrap

Status Registry::bootstrap(const std::string& advertiseAddress, int port,
                           const std::string& clusterDns) {
  if (auto st = addresses_.repair(); !st.ok()) return st;
  const auto* nsType = core::findResource("", "v1", "namespaces");
  WriteOptions wo;
  wo.fieldManager = "berth-apiserver";
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    json::object obj{
        {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", json::object{{"name", ns}}}};
    auto r = create(*nsType, "", std::move(obj), wo);
    if (!r.ok() && !r.status().isAlreadyExists()) return r.status();
  }
  // A user's Service already holding the cluster DNS address only costs the cluster its DNS
  // Service name; the server still starts.
  (void)ensureKubeDnsService(clusterDns);
  return ensureKubernetesService(advertiseAddress, port);
}

}  // namespace berth::apiserver
