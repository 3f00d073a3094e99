#include "scheduler/framework/types.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

#include "core/json_access.h"

namespace berth::scheduler {

namespace json = boost::json;

namespace {

// Upstream's scoring defaults for containers without requests (schedutil.DefaultMilliCPURequest,
// DefaultMemoryRequest).
constexpr int64_t kDefaultMilliCpu = 100;
constexpr int64_t kDefaultMemory = 200LL * 1024 * 1024;

using core::arrayField;

int64_t intField(const json::object& o, std::string_view key, int64_t def) {
  auto* v = o.if_contains(key);
  if (!v) return def;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return def;
}

std::vector<std::string> stringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto* a = arrayField(o, key)) {
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

std::vector<NodeSelectorRequirement> requirements(const json::object& o, std::string_view key) {
  std::vector<NodeSelectorRequirement> out;
  if (auto* a = arrayField(o, key)) {
    for (const auto& v : *a) {
      if (!v.is_object()) continue;
      const auto& r = v.as_object();
      out.push_back(
          {core::stringField(r, "key"), core::stringField(r, "operator"), stringList(r, "values")});
    }
  }
  return out;
}

NodeSelectorTerm nodeSelectorTerm(const json::object& o) {
  return {requirements(o, "matchExpressions"), requirements(o, "matchFields")};
}

core::Result<AffinityTerm> affinityTerm(const json::object& o, const std::string& podNs) {
  AffinityTerm t;
  t.topologyKey = core::stringField(o, "topologyKey");
  if (auto* sel = core::objectField(o, "labelSelector")) {
    auto s = core::LabelSelector::fromJson(*sel);
    if (!s.ok()) return s.status();
    t.selector = std::move(s).value();
    t.selectorSet = true;
  }
  t.namespaces = stringList(o, "namespaces");
  if (auto* nsSel = core::objectField(o, "namespaceSelector")) {
    auto s = core::LabelSelector::fromJson(*nsSel);
    if (!s.ok()) return s.status();
    t.namespaceSelector = std::move(s).value();
    t.namespaceSelectorSet = true;
  }
  // Neither namespaces nor a namespaceSelector: the term's own pod's namespace.
  if (t.namespaces.empty() && !t.namespaceSelectorSet) t.namespaces.push_back(podNs);
  std::string id = t.topologyKey + '\0' + (t.selectorSet ? t.selector.toString() : "<nil>") + '\0' +
                   (t.namespaceSelectorSet ? t.namespaceSelector.toString() : "<nil>");
  for (const auto& ns : t.namespaces) id += '\0' + ns;
  t.fingerprint = std::hash<std::string>{}(id);
  return t;
}

core::Status affinityTerms(const json::object* affinity, std::string_view kind,
                           const std::string& podNs, std::vector<AffinityTerm>& required,
                           std::vector<WeightedAffinityTerm>& preferred) {
  const auto* a = affinity ? core::objectField(*affinity, kind) : nullptr;
  if (!a) return {};
  if (auto* req = arrayField(*a, "requiredDuringSchedulingIgnoredDuringExecution")) {
    for (const auto& v : *req) {
      if (!v.is_object()) continue;
      auto t = affinityTerm(v.as_object(), podNs);
      if (!t.ok()) return t.status();
      required.push_back(std::move(t).value());
    }
  }
  if (auto* pref = arrayField(*a, "preferredDuringSchedulingIgnoredDuringExecution")) {
    for (const auto& v : *pref) {
      if (!v.is_object()) continue;
      const auto* term = core::objectField(v.as_object(), "podAffinityTerm");
      if (!term) continue;
      auto t = affinityTerm(*term, podNs);
      if (!t.ok()) return t.status();
      preferred.push_back(
          {static_cast<int>(intField(v.as_object(), "weight", 0)), std::move(t).value()});
    }
  }
  return {};
}

void parseNodeAffinity(const json::object* affinity, PodInfo& p) {
  const auto* na = affinity ? core::objectField(*affinity, "nodeAffinity") : nullptr;
  if (!na) return;
  if (auto* req = core::objectField(*na, "requiredDuringSchedulingIgnoredDuringExecution")) {
    if (auto* terms = arrayField(*req, "nodeSelectorTerms")) {
      for (const auto& t : *terms)
        if (t.is_object()) p.requiredNodeAffinity.push_back(nodeSelectorTerm(t.as_object()));
      // A required affinity with no terms matches no node (upstream); keep one empty term.
      if (p.requiredNodeAffinity.empty()) p.requiredNodeAffinity.emplace_back();
    }
  }
  if (auto* pref = arrayField(*na, "preferredDuringSchedulingIgnoredDuringExecution")) {
    for (const auto& v : *pref) {
      if (!v.is_object()) continue;
      const auto* term = core::objectField(v.as_object(), "preference");
      p.preferredNodeAffinity.push_back({static_cast<int>(intField(v.as_object(), "weight", 0)),
                                         term ? nodeSelectorTerm(*term) : NodeSelectorTerm{}});
    }
  }
}

core::Status parseSpread(const json::object& spec, PodInfo& p) {
  const auto* cs = arrayField(spec, "topologySpreadConstraints");
  if (!cs) return {};
  for (const auto& v : *cs) {
    if (!v.is_object()) continue;
    const auto& c = v.as_object();
    SpreadConstraint sc;
    sc.maxSkew = static_cast<int>(intField(c, "maxSkew", 1));
    sc.topologyKey = core::stringField(c, "topologyKey");
    sc.doNotSchedule = core::stringField(c, "whenUnsatisfiable") != "ScheduleAnyway";
    if (auto* sel = core::objectField(c, "labelSelector")) {
      auto s = core::LabelSelector::fromJson(*sel);
      if (!s.ok()) return s.status();
      sc.selector = std::move(s).value();
    } else {
      // A null selector matches no pod: require a label no pod can carry.
      sc.selector =
          core::LabelSelector::parse("!kubernetes.io/hostname,kubernetes.io/hostname").value();
    }
    // matchLabelKeys: the incoming pod's values for these keys narrow the selector.
    for (const auto& key : stringList(c, "matchLabelKeys")) {
      auto it = p.labels.find(key);
      if (it == p.labels.end()) continue;
      std::string text = sc.selector.toString();
      auto s =
          core::LabelSelector::parse((text.empty() ? "" : text + ",") + key + "=" + it->second);
      if (s.ok()) sc.selector = std::move(s).value();
    }
    sc.minDomains = static_cast<int>(intField(c, "minDomains", 1));
    sc.honorNodeAffinity = core::stringField(c, "nodeAffinityPolicy") != "Ignore";
    sc.honorTaints = core::stringField(c, "nodeTaintsPolicy") == "Honor";
    p.spreadConstraints.push_back(std::move(sc));
  }
  return {};
}

void parseContainers(const json::object& spec, PodInfo& p) {
  Resources sum, nonZeroSum, initMax, nonZeroInitMax;
  auto each = [&](std::string_view key, auto fn) {
    if (auto* cs = arrayField(spec, key)) {
      for (const auto& c : *cs) {
        if (!c.is_object()) continue;
        const auto* res = core::objectField(c.as_object(), "resources");
        Resources r = Resources::fromList(res ? core::objectField(*res, "requests") : nullptr);
        Resources nz = r;
        if (nz.milliCpu == 0) nz.milliCpu = kDefaultMilliCpu;
        if (nz.memory == 0) nz.memory = kDefaultMemory;
        fn(c.as_object(), r, nz);
      }
    }
  };
  each("containers", [&](const json::object& c, const Resources& r, const Resources& nz) {
    sum.add(r);
    nonZeroSum.add(nz);
    if (auto* ports = arrayField(c, "ports")) {
      for (const auto& pv : *ports) {
        if (!pv.is_object()) continue;
        int hostPort = static_cast<int>(intField(pv.as_object(), "hostPort", 0));
        if (hostPort <= 0) continue;
        std::string proto = core::stringField(pv.as_object(), "protocol");
        p.hostPorts.push_back(
            {proto.empty() ? "TCP" : proto, core::stringField(pv.as_object(), "hostIP"), hostPort});
      }
    }
  });
  each("initContainers", [&](const json::object&, const Resources& r, const Resources& nz) {
    initMax.setMax(r);
    nonZeroInitMax.setMax(nz);
  });
  sum.setMax(initMax);
  nonZeroSum.setMax(nonZeroInitMax);
  Resources overhead = Resources::fromList(core::objectField(spec, "overhead"));
  sum.add(overhead);
  nonZeroSum.add(overhead);
  p.requests = sum;
  p.nonZeroRequests = nonZeroSum;
}

}  // namespace

void Resources::add(const Resources& o) {
  milliCpu += o.milliCpu;
  memory += o.memory;
  ephemeralStorage += o.ephemeralStorage;
  pods += o.pods;
  for (const auto& [k, v] : o.scalar) scalar[k] += v;
}

void Resources::sub(const Resources& o) {
  milliCpu -= o.milliCpu;
  memory -= o.memory;
  ephemeralStorage -= o.ephemeralStorage;
  pods -= o.pods;
  for (const auto& [k, v] : o.scalar) scalar[k] -= v;
}

void Resources::setMax(const Resources& o) {
  milliCpu = std::max(milliCpu, o.milliCpu);
  memory = std::max(memory, o.memory);
  ephemeralStorage = std::max(ephemeralStorage, o.ephemeralStorage);
  pods = std::max(pods, o.pods);
  for (const auto& [k, v] : o.scalar) scalar[k] = std::max(scalar[k], v);
}

Resources Resources::fromList(const json::object* list) {
  Resources r;
  if (!list) return r;
  for (const auto& [k, v] : *list) {
    std::string text = v.is_string()   ? std::string(v.as_string())
                       : v.is_number() ? json::serialize(v)
                                       : std::string();
    if (k == "cpu") {
      r.milliCpu = parseQuantity(text, 1000).value_or(0);
    } else if (k == "memory") {
      r.memory = parseQuantity(text, 1).value_or(0);
    } else if (k == "ephemeral-storage") {
      r.ephemeralStorage = parseQuantity(text, 1).value_or(0);
    } else if (k == "pods") {
      r.pods = parseQuantity(text, 1).value_or(0);
    } else if (k.find('/') != std::string_view::npos || k.starts_with("hugepages-")) {
      r.scalar[std::string(k)] = parseQuantity(text, 1).value_or(0);
    }
  }
  return r;
}

std::optional<int64_t> parseQuantity(std::string_view s, int64_t scale) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  size_t start = i;
  int dots = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) dots += s[i++] == '.';
  std::string_view num = s.substr(start, i - start);
  if (num.empty() || dots > 1 || num == ".") return std::nullopt;
  long double value = std::strtold(std::string(num).c_str(), nullptr);
  std::string_view suffix = s.substr(i);
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1},
      {"n", 1e-9L},
      {"u", 1e-6L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
      {"Ki", 1024.0L},
      {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L}};
  bool found = false;
  for (const auto& [name, mult] : kSuffixes) {
    if (suffix == name) {
      value *= mult;
      found = true;
      break;
    }
  }
  if (!found) {
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
    std::string exp(suffix.substr(1));
    char* end = nullptr;
    long e = std::strtol(exp.c_str(), &end, 10);
    if (*end != '\0' || e > 30 || e < -30) return std::nullopt;
    value *= std::pow(10.0L, static_cast<long double>(e));
  }
  // Upstream rounds a quantity up to the unit asked for (Quantity.ScaledValue / MilliValue).
  long double scaled = std::ceil(value * scale - 1e-9L);
  if (scaled > 9.2e18L) return std::nullopt;
  return negative ? -static_cast<int64_t>(scaled) : static_cast<int64_t>(scaled);
}

bool tolerates(const Toleration& t, const Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (!t.key.empty() && t.key != taint.key) return false;
  if (t.op == "Exists") return true;
  if (t.op.empty() || t.op == "Equal") return t.value == taint.value;
  return false;
}

bool tolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& t) { return tolerates(t, taint); });
}

bool HostPort::conflicts(const HostPort& o) const {
  if (port != o.port || protocol != o.protocol) return false;
  auto any = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; };
  return any(ip) || any(o.ip) || ip == o.ip;
}

bool AffinityTerm::matches(const PodInfo& pod, const NamespaceLabels* namespaceLabels) const {
  if (!selectorSet) return false;
  bool nsOk = namespaces.size() == 1
                  ? namespaces[0] == pod.ns
                  : std::find(namespaces.begin(), namespaces.end(), pod.ns) != namespaces.end();
  if (!nsOk && namespaceSelectorSet) {
    if (namespaceSelector.empty()) {
      nsOk = true;
    } else if (namespaceLabels) {
      auto it = namespaceLabels->find(pod.ns);
      nsOk = it != namespaceLabels->end() && namespaceSelector.matches(it->second);
    }
  }
  return nsOk && selector.matches(pod.labels);
}

core::Result<PodInfoPtr> parsePod(ObjectPtr pod) {
  auto p = std::make_shared<PodInfo>();
  p->object = pod;
  if (!pod || !pod->is_object()) return core::Status::badRequest("pod is not an object");
  const auto& o = pod->as_object();
  static const json::object kEmpty;
  const auto* meta = core::objectField(o, "metadata");
  const auto* spec = core::objectField(o, "spec");
  const auto* status = core::objectField(o, "status");
  if (!meta) meta = &kEmpty;
  if (!spec) spec = &kEmpty;
  p->ns = core::stringField(*meta, "namespace");
  p->name = core::stringField(*meta, "name");
  p->uid = core::stringField(*meta, "uid");
  if (p->uid.empty()) p->uid = p->key();
  p->resourceVersion = core::stringField(*meta, "resourceVersion");
  p->creationTimestamp = core::stringField(*meta, "creationTimestamp");
  p->terminating = meta->contains("deletionTimestamp") && !meta->at("deletionTimestamp").is_null();
  p->labels = core::labelsOf(o);
  std::string id = p->ns;
  for (const auto& [k, v] : p->labels) id += '\0' + k + '=' + v;
  p->labelsFingerprint = std::hash<std::string>{}(id);
  p->nodeName = core::stringField(*spec, "nodeName");
  p->schedulerName = core::stringField(*spec, "schedulerName");
  if (p->schedulerName.empty()) p->schedulerName = "default-scheduler";
  p->priority = static_cast<int32_t>(intField(*spec, "priority", 0));
  p->priorityUnset = !spec->contains("priority");
  p->priorityClassName = core::stringField(*spec, "priorityClassName");
  p->preemptNever = core::stringField(*spec, "preemptionPolicy") == "Never";
  if (status) {
    p->nominatedNodeName = core::stringField(*status, "nominatedNodeName");
    std::string phase = core::stringField(*status, "phase");
    p->finished = phase == "Succeeded" || phase == "Failed";
  }
  if (auto* ns = core::objectField(*spec, "nodeSelector")) {
    for (const auto& [k, v] : *ns)
      if (v.is_string()) p->nodeSelector[std::string(k)] = std::string(v.as_string());
  }
  if (auto* tols = arrayField(*spec, "tolerations")) {
    for (const auto& t : *tols) {
      if (!t.is_object()) continue;
      const auto& to = t.as_object();
      p->tolerations.push_back({core::stringField(to, "key"), core::stringField(to, "operator"),
                                core::stringField(to, "value"), core::stringField(to, "effect")});
    }
  }
  parseContainers(*spec, *p);
  const auto* affinity = core::objectField(*spec, "affinity");
  parseNodeAffinity(affinity, *p);
  if (auto st =
          affinityTerms(affinity, "podAffinity", p->ns, p->requiredAffinity, p->preferredAffinity);
      !st.ok())
    return st;
  if (auto st = affinityTerms(affinity, "podAntiAffinity", p->ns, p->requiredAntiAffinity,
                              p->preferredAntiAffinity);
      !st.ok())
    return st;
  if (auto st = parseSpread(*spec, *p); !st.ok()) return st;
  return PodInfoPtr(std::move(p));
}

void NodeInfo::setNode(ObjectPtr node) {
  object = std::move(node);
  const auto& o = object->as_object();
  static const json::object kEmpty;
  const auto* meta = core::objectField(o, "metadata");
  const auto* spec = core::objectField(o, "spec");
  const auto* status = core::objectField(o, "status");
  name = meta ? core::stringField(*meta, "name") : "";
  labels = core::labelsOf(o);
  taints.clear();
  unschedulable = false;
  if (spec) {
    auto* u = spec->if_contains("unschedulable");
    unschedulable = u && u->is_bool() && u->as_bool();
    if (auto* ts = arrayField(*spec, "taints")) {
      for (const auto& t : *ts) {
        if (!t.is_object()) continue;
        const auto& to = t.as_object();
        taints.push_back({core::stringField(to, "key"), core::stringField(to, "value"),
                          core::stringField(to, "effect")});
      }
    }
  }
  allocatable = Resources::fromList(status ? core::objectField(*status, "allocatable") : nullptr);
  if (status && !core::objectField(*status, "allocatable")) {
    allocatable = Resources::fromList(core::objectField(*status, "capacity"));
  }
}

void NodeInfo::addPod(PodInfoPtr pod) {
  requested.add(pod->requests);
  nonZeroRequested.add(pod->nonZeroRequests);
  usedPorts.insert(usedPorts.end(), pod->hostPorts.begin(), pod->hostPorts.end());
  if (pod->hasAffinity()) ++podsWithAffinity;
  if (!pod->requiredAntiAffinity.empty()) ++podsWithRequiredAntiAffinity;
  pods.push_back(std::move(pod));
}

bool NodeInfo::removePod(const std::string& uid) {
  auto it =
      std::find_if(pods.begin(), pods.end(), [&](const PodInfoPtr& p) { return p->uid == uid; });
  if (it == pods.end()) return false;
  const PodInfo& pod = **it;
  requested.sub(pod.requests);
  nonZeroRequested.sub(pod.nonZeroRequests);
  for (const auto& hp : pod.hostPorts) {
    auto u = std::find_if(usedPorts.begin(), usedPorts.end(), [&](const HostPort& x) {
      return x.port == hp.port && x.protocol == hp.protocol && x.ip == hp.ip;
    });
    if (u != usedPorts.end()) usedPorts.erase(u);
  }
  if (pod.hasAffinity()) --podsWithAffinity;
  if (!pod.requiredAntiAffinity.empty()) --podsWithRequiredAntiAffinity;
  pods.erase(it);
  return true;
}

bool nodeSelectorTermMatches(const NodeSelectorTerm& term, const core::Labels& labels,
                             const std::string& nodeName) {
  // An empty term matches nothing (upstream's NodeSelectorTerm semantics).
  if (term.matchExpressions.empty() && term.matchFields.empty()) return false;
  auto check = [](const NodeSelectorRequirement& r, const std::string* value) {
    auto in = [&] {
      return value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    };
    auto number = [](const std::string& s, int64_t& out) {
      char* end = nullptr;
      out = std::strtoll(s.c_str(), &end, 10);
      return !s.empty() && *end == '\0';
    };
    if (r.op == "In") return in();
    if (r.op == "NotIn") return !in();
    if (r.op == "Exists") return value != nullptr;
    if (r.op == "DoesNotExist") return value == nullptr;
    if (r.op == "Gt" || r.op == "Lt") {
      int64_t have = 0, want = 0;
      if (!value || r.values.size() != 1 || !number(*value, have) || !number(r.values[0], want))
        return false;
      return r.op == "Gt" ? have > want : have < want;
    }
    return false;
  };
  for (const auto& r : term.matchExpressions) {
    auto it = labels.find(r.key);
    if (!check(r, it == labels.end() ? nullptr : &it->second)) return false;
  }
  for (const auto& r : term.matchFields) {
    if (r.key != "metadata.name" || !check(r, &nodeName)) return false;
  }
  return true;
}

bool podMatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& [k, v] : pod.nodeSelector) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return false;
  }
  if (pod.requiredNodeAffinity.empty()) return true;
  return std::any_of(pod.requiredNodeAffinity.begin(), pod.requiredNodeAffinity.end(),
                     [&](const NodeSelectorTerm& t) {
                       return nodeSelectorTermMatches(t, node.labels, node.name);
                     });
}

}  // namespace berth::scheduler
