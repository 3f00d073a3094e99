// Row printers for core/v1 kinds; facts (cell order, texts, edge cases) from upstream
// pkg/printers/internalversion/printers.go (Kubernetes 1.32).
#include <algorithm>
#include <map>
#include <set>

#include "apiserver/printers/rows.h"

namespace berth::apiserver::printers::internal {
namespace json = boost::json;

namespace {

// ---- pods ----

bool isRestartable(const json::object* spec, std::string_view containerName) {
  bool restartable = false;
  forEachObject(spec, "initContainers", [&](const json::object& c) {
    if (stringAt(c, "name") == containerName && stringAt(c, "restartPolicy") == "Always") {
      restartable = true;
    }
  });
  return restartable;
}

bool hasCondition(const json::object* status, std::string_view type) {
  bool found = false;
  forEachObject(status, "conditions", [&](const json::object& c) {
    if (stringAt(c, "type") == type && stringAt(c, "status") == "True") found = true;
  });
  return found;
}

// Keeps the later of `latest` and a container's lastState.terminated.finishedAt.
void noteTermination(const json::object& containerStatus, std::optional<TimePoint>& latest) {
  const json::object* terminated = objectAt(containerStatus, {"lastState", "terminated"});
  if (terminated == nullptr) return;
  auto finished = parseTime(stringAt(*terminated, "finishedAt"));
  if (finished && (!latest || *latest < *finished)) latest = finished;
}

std::string terminatedReason(const json::object& terminated, std::string_view prefix) {
  std::string_view reason = stringAt(terminated, "reason");
  if (!reason.empty()) return std::string(prefix) + std::string(reason);
  std::int64_t signal = intAt(terminated, "signal").value_or(0);
  if (signal != 0) return std::string(prefix) + "Signal:" + std::to_string(signal);
  return std::string(prefix) +
         "ExitCode:" + std::to_string(intAt(terminated, "exitCode").value_or(0));
}

}  // namespace

Cells podRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  const json::object* meta = objectAt(obj, "metadata");

  std::int64_t restarts = 0;
  std::int64_t restartableInitRestarts = 0;
  std::int64_t totalContainers = spec ? sizeAt(*spec, "containers") : 0;
  std::int64_t readyContainers = 0;
  std::optional<TimePoint> lastRestart;
  std::optional<TimePoint> lastRestartableInitRestart;

  std::string_view phase = stringAt(status, "phase");
  std::string reason(phase);
  if (!stringAt(status, "reason").empty()) reason = std::string(stringAt(status, "reason"));
  forEachObject(status, "conditions", [&](const json::object& c) {
    if (stringAt(c, "type") == "PodScheduled" && stringAt(c, "reason") == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  });

  std::int64_t initContainerCount = 0;
  forEachObject(spec, "initContainers", [&](const json::object& c) {
    ++initContainerCount;
    if (stringAt(c, "restartPolicy") == "Always") ++totalContainers;
  });

  bool initializing = false;
  if (const json::array* inits = status ? arrayAt(*status, "initContainerStatuses") : nullptr) {
    for (size_t i = 0; i < inits->size(); ++i) {
      if (!(*inits)[i].is_object()) continue;
      const json::object& cs = (*inits)[i].get_object();
      const bool restartable = isRestartable(spec, stringAt(cs, "name"));
      const std::int64_t count = intAt(cs, "restartCount").value_or(0);
      restarts += count;
      noteTermination(cs, lastRestart);
      if (restartable) {
        restartableInitRestarts += count;
        noteTermination(cs, lastRestartableInitRestart);
      }
      const json::object* terminated = objectAt(cs, {"state", "terminated"});
      const json::object* waiting = objectAt(cs, {"state", "waiting"});
      if (terminated != nullptr && intAt(*terminated, "exitCode").value_or(0) == 0) continue;
      if (restartable && boolAt(cs, "started").value_or(false)) {
        if (boolAt(cs, "ready").value_or(false)) ++readyContainers;
        continue;
      }
      if (terminated != nullptr) {
        reason = terminatedReason(*terminated, "Init:");
      } else if (waiting != nullptr && !stringAt(*waiting, "reason").empty() &&
                 stringAt(*waiting, "reason") != "PodInitializing") {
        reason = "Init:" + std::string(stringAt(*waiting, "reason"));
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(initContainerCount);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || hasCondition(status, "Initialized")) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    bool hasRunning = false;
    if (const json::array* cstats = status ? arrayAt(*status, "containerStatuses") : nullptr) {
      for (auto it = cstats->rbegin(); it != cstats->rend(); ++it) {
        if (!it->is_object()) continue;
        const json::object& cs = it->get_object();
        restarts += intAt(cs, "restartCount").value_or(0);
        noteTermination(cs, lastRestart);
        const json::object* waiting = objectAt(cs, {"state", "waiting"});
        const json::object* terminated = objectAt(cs, {"state", "terminated"});
        const json::object* running = objectAt(cs, {"state", "running"});
        if (waiting != nullptr && !stringAt(*waiting, "reason").empty()) {
          reason = std::string(stringAt(*waiting, "reason"));
        } else if (terminated != nullptr) {
          reason = terminatedReason(*terminated, "");
        } else if (boolAt(cs, "ready").value_or(false) && running != nullptr) {
          hasRunning = true;
          ++readyContainers;
        }
      }
    }
    // A pod whose last container completed while another still runs is not "Completed".
    if (reason == "Completed" && hasRunning) {
      reason = hasCondition(status, "Ready") ? "Running" : "NotReady";
    }
  }

  const bool deleting = meta != nullptr && !stringAt(*meta, "deletionTimestamp").empty();
  if (deleting && stringAt(status, "reason") == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Failed" && phase != "Succeeded") {
    reason = "Terminating";
  }

  std::string restartsCell = std::to_string(restarts);
  if (restarts != 0 && lastRestart) {
    restartsCell += " (" + since(lastRestart, now) + " ago)";
  }

  std::string podIP;
  forEachObject(status, "podIPs", [&](const json::object& ip) {
    if (podIP.empty()) podIP = std::string(stringAt(ip, "ip"));
  });
  if (podIP.empty()) podIP = std::string(stringAt(status, "podIP"));
  if (podIP.empty()) podIP = "<none>";
  std::string nodeName(stringAt(spec, "nodeName"));
  if (nodeName.empty()) nodeName = "<none>";
  std::string nominated(stringAt(status, "nominatedNodeName"));
  if (nominated.empty()) nominated = "<none>";

  std::string readinessGates = "<none>";
  const std::int64_t gateCount = spec ? sizeAt(*spec, "readinessGates") : 0;
  if (gateCount > 0) {
    std::int64_t trueConditions = 0;
    forEachObject(spec, "readinessGates", [&](const json::object& gate) {
      std::string_view type = stringAt(gate, "conditionType");
      bool seen = false;
      forEachObject(status, "conditions", [&](const json::object& c) {
        if (seen || stringAt(c, "type") != type) return;
        seen = true;
        if (stringAt(c, "status") == "True") ++trueConditions;
      });
    });
    readinessGates = std::to_string(trueConditions) + "/" + std::to_string(gateCount);
  }

  return Cells{
      name(obj),     std::to_string(readyContainers) + "/" + std::to_string(totalContainers),
      reason,        restartsCell,
      age(obj, now), podIP,
      nodeName,      nominated,
      readinessGates};
}

// ---- services ----

namespace {

// loadBalancerStatusStringer, wide form (the server always prints wide): sorted unique
// IPs or hostnames.
std::string loadBalancerIngress(const json::object* status) {
  std::set<std::string> result;
  forEachObject(status ? objectAt(*status, "loadBalancer") : nullptr, "ingress",
                [&](const json::object& ing) {
                  if (!stringAt(ing, "ip").empty()) {
                    result.insert(std::string(stringAt(ing, "ip")));
                  } else if (!stringAt(ing, "hostname").empty()) {
                    result.insert(std::string(stringAt(ing, "hostname")));
                  }
                });
  return join(std::vector<std::string>(result.begin(), result.end()), ",");
}

std::vector<std::string> stringList(const json::object* o, std::string_view key) {
  std::vector<std::string> out;
  if (o == nullptr) return out;
  if (const json::array* a = arrayAt(*o, key)) {
    for (const json::value& v : *a) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

std::string serviceExternalIP(const json::object* spec, const json::object* status,
                              std::string_view type) {
  std::vector<std::string> externalIPs = stringList(spec, "externalIPs");
  if (type == "ClusterIP" || type == "NodePort") {
    return externalIPs.empty() ? "<none>" : join(externalIPs, ",");
  }
  if (type == "LoadBalancer") {
    std::string lb = loadBalancerIngress(status);
    if (!externalIPs.empty()) {
      std::string out = lb;
      for (const auto& ip : externalIPs) {
        if (!out.empty()) out += ',';
        out += ip;
      }
      return out;
    }
    return lb.empty() ? "<pending>" : lb;
  }
  if (type == "ExternalName") return std::string(stringAt(spec, "externalName"));
  return "<unknown>";
}

}  // namespace

Cells serviceRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  // An undefaulted type is ClusterIP, as the API server's defaulting makes it.
  std::string type(stringAt(spec, "type"));
  if (type.empty()) type = "ClusterIP";
  std::string clusterIP = "<none>";
  std::vector<std::string> clusterIPs = stringList(spec, "clusterIPs");
  if (!clusterIPs.empty()) {
    clusterIP = clusterIPs.front();
  } else if (!stringAt(spec, "clusterIP").empty()) {
    clusterIP = std::string(stringAt(spec, "clusterIP"));
  }
  std::vector<std::string> pieces;
  forEachObject(spec, "ports", [&](const json::object& p) {
    std::string protocol(stringAt(p, "protocol"));
    if (protocol.empty()) protocol = "TCP";
    const std::int64_t port = intAt(p, "port").value_or(0);
    const std::int64_t nodePort = intAt(p, "nodePort").value_or(0);
    if (nodePort > 0) {
      pieces.push_back(std::to_string(port) + ":" + std::to_string(nodePort) + "/" + protocol);
    } else {
      pieces.push_back(std::to_string(port) + "/" + protocol);
    }
  });
  std::string ports = pieces.empty() ? "<none>" : join(pieces, ",");
  return Cells{name(obj),
               type,
               clusterIP,
               serviceExternalIP(spec, status, type),
               ports,
               age(obj, now),
               formatLabels(spec ? objectAt(*spec, "selector") : nullptr)};
}

// ---- nodes ----

Cells nodeRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  const json::object* meta = objectAt(obj, "metadata");
  std::vector<std::string> conditions;
  // Upstream keeps the last Ready condition (map by type) and shows Ready / NotReady.
  std::optional<std::string> ready;
  forEachObject(status, "conditions", [&](const json::object& c) {
    if (stringAt(c, "type") == "Ready") ready = std::string(stringAt(c, "status"));
  });
  if (ready) conditions.push_back(*ready == "True" ? "Ready" : "NotReady");
  if (conditions.empty()) conditions.push_back("Unknown");
  if (spec != nullptr && boolAt(*spec, "unschedulable").value_or(false)) {
    conditions.push_back("SchedulingDisabled");
  }

  std::set<std::string> roles;
  if (const json::object* labels = meta ? objectAt(*meta, "labels") : nullptr) {
    constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
    for (const auto& kv : *labels) {
      std::string_view key = kv.key();
      if (key.substr(0, kRolePrefix.size()) == kRolePrefix) {
        if (key.size() > kRolePrefix.size())
          roles.insert(std::string(key.substr(kRolePrefix.size())));
      } else if (key == "kubernetes.io/role" && kv.value().is_string() &&
                 !kv.value().get_string().empty()) {
        roles.insert(std::string(kv.value().get_string()));
      }
    }
  }
  std::string rolesCell = join(std::vector<std::string>(roles.begin(), roles.end()), ",");
  if (rolesCell.empty()) rolesCell = "<none>";

  auto address = [&](std::string_view type) {
    std::string found;
    forEachObject(status, "addresses", [&](const json::object& a) {
      if (found.empty() && stringAt(a, "type") == type) found = std::string(stringAt(a, "address"));
    });
    return found.empty() ? std::string("<none>") : found;
  };
  const json::object* info = status ? objectAt(*status, "nodeInfo") : nullptr;
  auto infoOr = [&](std::string_view key) {
    std::string v(stringAt(info, key));
    return v.empty() ? std::string("<unknown>") : v;
  };
  return Cells{name(obj),
               join(conditions, ","),
               rolesCell,
               age(obj, now),
               stringAt(info, "kubeletVersion"),
               address("InternalIP"),
               address("ExternalIP"),
               infoOr("osImage"),
               infoOr("kernelVersion"),
               infoOr("containerRuntimeVersion")};
}

Cells namespaceRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), stringAt(objectAt(obj, "status"), "phase"), age(obj, now)};
}

// ---- events ----

namespace {

// The fields of printEvent, gathered from either core/v1 or events.k8s.io/v1 names.
struct EventFields {
  std::optional<TimePoint> first, last, eventTime, seriesLast;
  bool hasSeries = false;
  std::int64_t count = 0, seriesCount = 0;
  std::string_view kind, involvedName, fieldPath, component, host;
  std::string_view reportingController, reportingInstance;
  std::string_view type, reason, message;
};

Cells eventCells(const json::object& obj, const EventFields& e, TimePoint now) {
  std::string first = e.first ? since(e.first, now) : since(e.eventTime, now);
  std::string last = e.last ? since(e.last, now) : first;
  std::int64_t count = e.count;
  if (e.hasSeries) {
    last = since(e.seriesLast, now);
    count = e.seriesCount;
  } else if (count == 0) {
    count = 1;  // singleton events carry no count in the new API
  }
  std::string target = toLower(e.kind);
  if (!e.involvedName.empty()) target += "/" + std::string(e.involvedName);
  std::string component(e.component.empty() ? e.reportingController : e.component);
  std::string instance(e.host.empty() ? e.reportingInstance : e.host);
  std::string source = instance.empty() ? component : component + ", " + instance;
  return Cells{last,  e.type, e.reason, target, e.fieldPath, source, trimSpace(e.message),
               first, count,  name(obj)};
}

}  // namespace

Cells eventRow(const json::object& obj, TimePoint now) {
  EventFields e;
  e.first = parseTime(stringAt(obj, "firstTimestamp"));
  e.last = parseTime(stringAt(obj, "lastTimestamp"));
  e.eventTime = parseTime(stringAt(obj, "eventTime"));
  if (const json::object* series = objectAt(obj, "series")) {
    e.hasSeries = true;
    e.seriesCount = intAt(*series, "count").value_or(0);
    e.seriesLast = parseTime(stringAt(*series, "lastObservedTime"));
  }
  e.count = intAt(obj, "count").value_or(0);
  const json::object* involved = objectAt(obj, "involvedObject");
  e.kind = stringAt(involved, "kind");
  e.involvedName = stringAt(involved, "name");
  e.fieldPath = stringAt(involved, "fieldPath");
  const json::object* source = objectAt(obj, "source");
  e.component = stringAt(source, "component");
  e.host = stringAt(source, "host");
  e.reportingController = stringAt(obj, "reportingComponent");
  e.reportingInstance = stringAt(obj, "reportingInstance");
  e.type = stringAt(obj, "type");
  e.reason = stringAt(obj, "reason");
  e.message = stringAt(obj, "message");
  return eventCells(obj, e, now);
}

Cells eventsV1EventRow(const json::object& obj, TimePoint now) {
  EventFields e;
  e.first = parseTime(stringAt(obj, "deprecatedFirstTimestamp"));
  e.last = parseTime(stringAt(obj, "deprecatedLastTimestamp"));
  e.eventTime = parseTime(stringAt(obj, "eventTime"));
  if (const json::object* series = objectAt(obj, "series")) {
    e.hasSeries = true;
    e.seriesCount = intAt(*series, "count").value_or(0);
    e.seriesLast = parseTime(stringAt(*series, "lastObservedTime"));
  }
  e.count = intAt(obj, "deprecatedCount").value_or(0);
  const json::object* regarding = objectAt(obj, "regarding");
  e.kind = stringAt(regarding, "kind");
  e.involvedName = stringAt(regarding, "name");
  e.fieldPath = stringAt(regarding, "fieldPath");
  const json::object* source = objectAt(obj, "deprecatedSource");
  e.component = stringAt(source, "component");
  e.host = stringAt(source, "host");
  e.reportingController = stringAt(obj, "reportingController");
  e.reportingInstance = stringAt(obj, "reportingInstance");
  e.type = stringAt(obj, "type");
  e.reason = stringAt(obj, "reason");
  e.message = stringAt(obj, "note");
  return eventCells(obj, e, now);
}

// ---- endpoints ----

Cells endpointsRow(const json::object& obj, TimePoint now) {
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  std::int64_t count = 0;
  const json::array* subsets = arrayAt(obj, "subsets");
  forEachObject(&obj, "subsets", [&](const json::object& ss) {
    std::vector<const json::object*> addresses;
    forEachObject(&ss, "addresses", [&](const json::object& a) { addresses.push_back(&a); });
    auto add = [&](const std::string& entry) {
      if (list.size() == kMax) {
        more = true;
        return false;
      }
      list.push_back(entry);
      return true;
    };
    if (sizeAt(ss, "ports") == 0) {
      // Headless services may have no ports.
      count += static_cast<std::int64_t>(addresses.size());
      for (const json::object* a : addresses) {
        if (!add(std::string(stringAt(*a, "ip")))) break;
      }
      return;
    }
    forEachObject(&ss, "ports", [&](const json::object& port) {
      count += static_cast<std::int64_t>(addresses.size());
      const std::string portText = std::to_string(intAt(port, "port").value_or(0));
      for (const json::object* a : addresses) {
        std::string ip(stringAt(*a, "ip"));
        std::string hostPort =
            ip.find(':') != std::string::npos ? "[" + ip + "]:" + portText : ip + ":" + portText;
        if (!add(hostPort)) break;
      }
    });
  });
  std::string cell;
  if (subsets == nullptr || subsets->empty()) {
    cell = "<none>";
  } else {
    cell = join(list, ",");
    if (more) cell += " + " + std::to_string(count - static_cast<std::int64_t>(kMax)) + " more...";
  }
  return Cells{name(obj), cell, age(obj, now)};
}

Cells configMapRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), sizeAt(obj, "data") + sizeAt(obj, "binaryData"), age(obj, now)};
}

Cells secretRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), stringAt(obj, "type"), sizeAt(obj, "data"), age(obj, now)};
}

Cells serviceAccountRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), sizeAt(obj, "secrets"), age(obj, now)};
}

Cells replicationControllerRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  auto [containers, images] =
      containerCells(spec ? objectAt(*spec, {"template", "spec"}) : nullptr);
  return Cells{name(obj),
               intOr(spec, "replicas", 1),
               intOr(status, "replicas", 0),
               intOr(status, "readyReplicas", 0),
               age(obj, now),
               containers,
               images,
               formatLabels(spec ? objectAt(*spec, "selector") : nullptr)};
}

Cells resourceQuotaRow(const json::object& obj, TimePoint now) {
  const json::object* status = objectAt(obj, "status");
  const json::object* hard = status ? objectAt(*status, "hard") : nullptr;
  const json::object* used = status ? objectAt(*status, "used") : nullptr;
  std::map<std::string, std::string> sortedHard;
  if (hard != nullptr) {
    for (const auto& kv : *hard) {
      sortedHard[std::string(kv.key())] =
          kv.value().is_string() ? std::string(kv.value().get_string()) : "0";
    }
  }
  std::string request, limit;
  for (const auto& [resource, hardQty] : sortedHard) {
    std::string usedQty(stringAt(used, resource));
    if (usedQty.empty()) usedQty = "0";
    // Resources named "limits.*" go to the LIMIT column, all others to REQUEST.
    std::string& column = resource.rfind("limits.", 0) == 0 ? limit : request;
    column += resource + ": " + usedQty + "/" + hardQty + ", ";
  }
  auto trimComma = [](std::string s) {
    if (s.size() >= 2 && s.compare(s.size() - 2, 2, ", ") == 0) s.resize(s.size() - 2);
    return s;
  };
  return Cells{name(obj), trimComma(request), trimComma(limit), age(obj, now)};
}

}  // namespace berth::apiserver::printers::internal
