// Row printers for kinds outside core/v1 (apps, batch, autoscaling, networking, discovery,
// coordination, scheduling, policy, rbac); facts from upstream
// pkg/printers/internalversion/printers.go (Kubernetes 1.32).
#include <set>

#include "apiserver/printers/rows.h"
#include "apiserver/printers/table.h"

namespace berth::apiserver::printers::internal {
namespace json = boost::json;

namespace {

const json::object* templateSpec(const json::object* spec) {
  return spec ? objectAt(*spec, {"template", "spec"}) : nullptr;
}

const json::object* selectorOf(const json::object* spec) {
  return spec ? objectAt(*spec, "selector") : nullptr;
}

// upstream printBoolPtr
std::string boolPtr(const json::object* o, std::string_view key) {
  auto b = o ? boolAt(*o, key) : std::nullopt;
  if (!b) return "<unset>";
  return *b ? "True" : "False";
}

// A Quantity field as its text; Go prints a nil *Quantity as "<nil>".
std::string quantity(const json::object* o, std::string_view key) {
  if (o == nullptr) return "<nil>";
  const json::value* v = field(*o, key);
  if (v == nullptr || v->is_null()) return "<nil>";
  if (v->is_string()) return std::string(v->get_string());
  if (auto i = intAt(*o, key)) return std::to_string(*i);
  return "<nil>";
}

}  // namespace

Cells deploymentRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  auto [containers, images] = containerCells(templateSpec(spec));
  std::string selector = labelSelectorString(selectorOf(spec)).value_or("<invalid>");
  return Cells{name(obj),
               std::to_string(intOr(status, "readyReplicas", 0)) + "/" +
                   std::to_string(intOr(spec, "replicas", 1)),
               intOr(status, "updatedReplicas", 0),
               intOr(status, "availableReplicas", 0),
               age(obj, now),
               containers,
               images,
               selector};
}

Cells replicaSetRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  auto [containers, images] = containerCells(templateSpec(spec));
  return Cells{name(obj),
               intOr(spec, "replicas", 1),
               intOr(status, "replicas", 0),
               intOr(status, "readyReplicas", 0),
               age(obj, now),
               containers,
               images,
               formatLabelSelector(selectorOf(spec))};
}

Cells daemonSetRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  const json::object* podSpec = templateSpec(spec);
  auto [containers, images] = containerCells(podSpec);
  return Cells{name(obj),
               intOr(status, "desiredNumberScheduled", 0),
               intOr(status, "currentNumberScheduled", 0),
               intOr(status, "numberReady", 0),
               intOr(status, "updatedNumberScheduled", 0),
               intOr(status, "numberAvailable", 0),
               formatLabels(podSpec ? objectAt(*podSpec, "nodeSelector") : nullptr),
               age(obj, now),
               containers,
               images,
               formatLabelSelector(selectorOf(spec))};
}

Cells statefulSetRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  auto [containers, images] = containerCells(templateSpec(spec));
  return Cells{name(obj),
               std::to_string(intOr(status, "readyReplicas", 0)) + "/" +
                   std::to_string(intOr(spec, "replicas", 1)),
               age(obj, now), containers, images};
}

Cells controllerRevisionRow(const json::object& obj, TimePoint now) {
  std::string controller = "<none>";
  const json::object* meta = objectAt(obj, "metadata");
  bool found = false;
  forEachObject(meta, "ownerReferences", [&](const json::object& ref) {
    if (found || !boolAt(ref, "controller").value_or(false)) return;
    found = true;
    std::string_view apiVersion = stringAt(ref, "apiVersion");
    std::string_view group;
    if (auto slash = apiVersion.find('/'); slash != std::string_view::npos) {
      group = apiVersion.substr(0, slash);
    }
    std::string_view kind = stringAt(ref, "kind");
    std::string groupKind(kind);
    if (!group.empty()) groupKind += "." + std::string(group);
    std::string refName(stringAt(ref, "name"));
    controller = groupKind.empty() ? refName : toLower(groupKind) + "/" + refName;
  });
  return Cells{name(obj), controller, intAt(obj, "revision").value_or(0), age(obj, now)};
}

namespace {

// hasJobCondition: the first condition of the type decides.
bool jobCondition(const json::object* status, std::string_view type) {
  std::optional<bool> result;
  forEachObject(status, "conditions", [&](const json::object& c) {
    if (!result && stringAt(c, "type") == type) result = stringAt(c, "status") == "True";
  });
  return result.value_or(false);
}

}  // namespace

Cells jobRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  const std::int64_t succeeded = intOr(status, "succeeded", 0);
  std::string completions;
  if (auto c = spec ? intAt(*spec, "completions") : std::nullopt) {
    completions = std::to_string(succeeded) + "/" + std::to_string(*c);
  } else {
    const std::int64_t parallelism = intOr(spec, "parallelism", 0);
    completions = std::to_string(succeeded) + "/1";
    if (parallelism > 1) completions += " of " + std::to_string(parallelism);
  }
  std::string duration;
  auto start = parseTime(stringAt(status, "startTime"));
  auto completion = parseTime(stringAt(status, "completionTime"));
  if (start) {
    TimePoint end = completion ? *completion : now;
    duration = humanDuration(std::chrono::duration_cast<std::chrono::seconds>(end - *start));
  }
  std::string state = "Running";
  const json::object* meta = objectAt(obj, "metadata");
  if (jobCondition(status, "Complete")) {
    state = "Complete";
  } else if (jobCondition(status, "Failed")) {
    state = "Failed";
  } else if (!stringAt(meta, "deletionTimestamp").empty()) {
    state = "Terminating";
  } else if (jobCondition(status, "Suspended")) {
    state = "Suspended";
  } else if (jobCondition(status, "FailureTarget")) {
    state = "FailureTarget";
  }
  auto [containers, images] = containerCells(templateSpec(spec));
  return Cells{name(obj),     state,      completions, duration,
               age(obj, now), containers, images,      formatLabelSelector(selectorOf(spec))};
}

Cells cronJobRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  std::string lastSchedule = "<none>";
  if (status != nullptr && field(*status, "lastScheduleTime") != nullptr &&
      !field(*status, "lastScheduleTime")->is_null()) {
    lastSchedule = sinceField(status, "lastScheduleTime", now);
  }
  std::string timeZone = "<none>";
  if (spec != nullptr && field(*spec, "timeZone") != nullptr &&
      field(*spec, "timeZone")->is_string()) {
    timeZone = std::string(stringAt(*spec, "timeZone"));
  }
  const json::object* jobSpec = spec ? objectAt(*spec, {"jobTemplate", "spec"}) : nullptr;
  auto [containers, images] = containerCells(templateSpec(jobSpec));
  return Cells{name(obj),
               stringAt(spec, "schedule"),
               timeZone,
               boolPtr(spec, "suspend"),
               status ? sizeAt(*status, "active") : 0,
               lastSchedule,
               age(obj, now),
               containers,
               images,
               formatLabelSelector(selectorOf(jobSpec))};
}

// ---- horizontal pod autoscalers ----

namespace {

std::string percent(std::int64_t v) { return std::to_string(v) + "%"; }

// formatHPAMetrics over autoscaling/v2 spec.metrics and status.currentMetrics; statuses are
// matched to specs by index, as upstream does.
std::string hpaMetrics(const json::array* specs, const json::array* statuses) {
  if (specs == nullptr || specs->empty()) return "<none>";
  auto statusAt = [&](size_t i, std::string_view source) -> const json::object* {
    if (statuses == nullptr || i >= statuses->size() || !(*statuses)[i].is_object()) {
      return nullptr;
    }
    return objectAt((*statuses)[i].get_object(), source);
  };
  constexpr size_t kMax = 2;
  std::vector<std::string> list;
  for (size_t i = 0; i < specs->size(); ++i) {
    const json::object empty;
    const json::object& spec = (*specs)[i].is_object() ? (*specs)[i].get_object() : empty;
    std::string_view type = stringAt(spec, "type");
    if (type == "External" || type == "Object" || type == "Pods") {
      std::string_view source = type == "External" ? "external"
                                : type == "Object" ? "object"
                                                   : "pods";
      const json::object* target = objectAt(spec, {source, "target"});
      const json::object* st = statusAt(i, source);
      const json::object* current = st ? objectAt(*st, "current") : nullptr;
      const bool average =
          type == "Pods" || (target != nullptr && field(*target, "averageValue") != nullptr &&
                             !field(*target, "averageValue")->is_null());
      std::string cur = "<unknown>";
      if (average) {
        if (st != nullptr && (type == "Pods" ||
                              (current != nullptr && field(*current, "averageValue") != nullptr))) {
          cur = quantity(current, "averageValue");
        }
        std::string entry = cur + "/" + quantity(target, "averageValue");
        if (type != "Pods") entry += " (avg)";
        list.push_back(entry);
      } else {
        if (st != nullptr) cur = quantity(current, "value");
        list.push_back(cur + "/" + quantity(target, "value"));
      }
    } else if (type == "Resource" || type == "ContainerResource") {
      std::string_view source = type == "Resource" ? "resource" : "containerResource";
      const json::object* src = objectAt(spec, source);
      const json::object* target = src ? objectAt(*src, "target") : nullptr;
      const json::object* st = statusAt(i, source);
      const json::object* current = st ? objectAt(*st, "current") : nullptr;
      std::string resource(stringAt(src, "name"));
      std::string cur = "<unknown>";
      if (target != nullptr && field(*target, "averageValue") != nullptr &&
          !field(*target, "averageValue")->is_null()) {
        if (st != nullptr) cur = quantity(current, "averageValue");
        list.push_back(resource + ": " + cur + "/" + quantity(target, "averageValue"));
      } else {
        if (auto u = current ? intAt(*current, "averageUtilization") : std::nullopt) {
          cur = percent(*u);
        }
        std::string tgt = "<auto>";
        if (auto u = target ? intAt(*target, "averageUtilization") : std::nullopt) {
          tgt = percent(*u);
        }
        list.push_back(resource + ": " + cur + "/" + tgt);
      }
    } else {
      list.push_back("<unknown type>");
    }
  }
  const size_t count = list.size();
  if (count > kMax) {
    list.resize(kMax);
    return join(list, ", ") + " + " + std::to_string(count - kMax) + " more...";
  }
  return join(list, ", ");
}

}  // namespace

Cells hpaRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  const json::object* ref = spec ? objectAt(*spec, "scaleTargetRef") : nullptr;
  std::string reference =
      std::string(stringAt(ref, "kind")) + "/" + std::string(stringAt(ref, "name"));
  std::string metrics;
  if (spec != nullptr && field(*spec, "targetCPUUtilizationPercentage") != nullptr) {
    // autoscaling/v1: the single CPU utilization target converts to one Resource metric.
    std::string cur = "<unknown>";
    if (auto c = status ? intAt(*status, "currentCPUUtilizationPercentage") : std::nullopt) {
      cur = percent(*c);
    }
    std::string tgt = "<auto>";
    if (auto t = intAt(*spec, "targetCPUUtilizationPercentage")) tgt = percent(*t);
    metrics = "cpu: " + cur + "/" + tgt;
  } else {
    metrics = hpaMetrics(spec ? arrayAt(*spec, "metrics") : nullptr,
                         status ? arrayAt(*status, "currentMetrics") : nullptr);
  }
  std::string minPods = "<unset>";
  if (auto m = spec ? intAt(*spec, "minReplicas") : std::nullopt) minPods = std::to_string(*m);
  return Cells{name(obj),
               reference,
               metrics,
               minPods,
               intOr(spec, "maxReplicas", 0),
               intOr(status, "currentReplicas", 0),
               age(obj, now)};
}

// ---- networking, discovery ----

Cells ingressRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  const json::object* status = objectAt(obj, "status");
  std::string className = "<none>";
  if (spec != nullptr && field(*spec, "ingressClassName") != nullptr &&
      field(*spec, "ingressClassName")->is_string()) {
    className = std::string(stringAt(*spec, "ingressClassName"));
  }
  constexpr size_t kMax = 3;
  std::vector<std::string> hosts;
  bool more = false;
  std::int64_t rules = 0;
  if (const json::array* rs = spec ? arrayAt(*spec, "rules") : nullptr) {
    rules = static_cast<std::int64_t>(rs->size());
    for (const json::value& rv : *rs) {
      if (hosts.size() == kMax) more = true;
      std::string_view host = rv.is_object() ? stringAt(rv.get_object(), "host") : "";
      if (!more && !host.empty()) hosts.emplace_back(host);
    }
  }
  std::string hostsCell = "*";
  if (!hosts.empty()) {
    hostsCell = join(hosts, ",");
    if (more)
      hostsCell += " + " + std::to_string(rules - static_cast<std::int64_t>(kMax)) + " more...";
  }
  std::set<std::string> addresses;
  forEachObject(status ? objectAt(*status, "loadBalancer") : nullptr, "ingress",
                [&](const json::object& ing) {
                  if (!stringAt(ing, "ip").empty()) {
                    addresses.insert(std::string(stringAt(ing, "ip")));
                  } else if (!stringAt(ing, "hostname").empty()) {
                    addresses.insert(std::string(stringAt(ing, "hostname")));
                  }
                });
  std::string ports = spec != nullptr && sizeAt(*spec, "tls") > 0 ? "80, 443" : "80";
  return Cells{name(obj), className,
               hostsCell, join(std::vector<std::string>(addresses.begin(), addresses.end()), ","),
               ports,     age(obj, now)};
}

Cells ingressClassRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  std::string parameters = "<none>";
  if (const json::object* p = spec ? objectAt(*spec, "parameters") : nullptr) {
    parameters = std::string(stringAt(*p, "kind"));
    if (field(*p, "apiGroup") != nullptr && field(*p, "apiGroup")->is_string()) {
      parameters += "." + std::string(stringAt(*p, "apiGroup"));
    }
    parameters += "/" + std::string(stringAt(*p, "name"));
  }
  return Cells{name(obj), stringAt(spec, "controller"), parameters, age(obj, now)};
}

Cells networkPolicyRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  return Cells{name(obj), formatLabelSelector(spec ? objectAt(*spec, "podSelector") : nullptr),
               age(obj, now)};
}

namespace {

std::string listWithMore(const std::vector<std::string>& list, bool more, std::int64_t count,
                         std::int64_t max) {
  std::string out = join(list, ",");
  if (more) return out + " + " + std::to_string(count - max) + " more...";
  return out.empty() ? "<unset>" : out;
}

}  // namespace

Cells endpointSliceRow(const json::object& obj, TimePoint now) {
  constexpr size_t kMax = 3;
  std::vector<std::string> ports;
  bool morePorts = false;
  std::int64_t portCount = 0;
  forEachObject(&obj, "ports", [&](const json::object& p) {
    if (ports.size() < kMax) {
      std::string text = "*";
      if (auto port = intAt(p, "port")) {
        text = std::to_string(*port);
      } else if (field(p, "name") != nullptr && field(p, "name")->is_string()) {
        text = std::string(stringAt(p, "name"));
      }
      ports.push_back(text);
    } else if (ports.size() == kMax) {
      morePorts = true;
    }
    ++portCount;
  });
  std::vector<std::string> addresses;
  bool moreAddresses = false;
  std::int64_t addressCount = 0;
  forEachObject(&obj, "endpoints", [&](const json::object& e) {
    if (const json::array* as = arrayAt(e, "addresses")) {
      for (const json::value& a : *as) {
        if (addresses.size() < kMax) {
          addresses.emplace_back(a.is_string() ? std::string(a.get_string()) : "");
        } else if (addresses.size() == kMax) {
          moreAddresses = true;
        }
        ++addressCount;
      }
    }
  });
  return Cells{name(obj), stringAt(obj, "addressType"),
               listWithMore(ports, morePorts, portCount, kMax),
               listWithMore(addresses, moreAddresses, addressCount, kMax), age(obj, now)};
}

// ---- coordination, scheduling, policy, rbac ----

Cells leaseRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), stringAt(objectAt(obj, "spec"), "holderIdentity"), age(obj, now)};
}

Cells priorityClassRow(const json::object& obj, TimePoint now) {
  return Cells{name(obj), intAt(obj, "value").value_or(0),
               boolAt(obj, "globalDefault").value_or(false), age(obj, now),
               stringAt(obj, "preemptionPolicy")};
}

Cells podDisruptionBudgetRow(const json::object& obj, TimePoint now) {
  const json::object* spec = objectAt(obj, "spec");
  std::string minAvailable =
      (spec ? intOrString(*spec, "minAvailable") : std::nullopt).value_or("N/A");
  std::string maxUnavailable =
      (spec ? intOrString(*spec, "maxUnavailable") : std::nullopt).value_or("N/A");
  return Cells{name(obj), minAvailable, maxUnavailable,
               intOr(objectAt(obj, "status"), "disruptionsAllowed", 0), age(obj, now)};
}

Cells roleBindingRow(const json::object& obj, TimePoint now) {
  const json::object* roleRef = objectAt(obj, "roleRef");
  std::vector<std::string> users, groups, serviceAccounts;
  forEachObject(&obj, "subjects", [&](const json::object& s) {
    std::string_view kind = stringAt(s, "kind");
    std::string subjectName(stringAt(s, "name"));
    if (kind == "ServiceAccount") {
      serviceAccounts.push_back(std::string(stringAt(s, "namespace")) + "/" + subjectName);
    } else if (kind == "User") {
      users.push_back(subjectName);
    } else if (kind == "Group") {
      groups.push_back(subjectName);
    }
  });
  return Cells{
      name(obj),
      std::string(stringAt(roleRef, "kind")) + "/" + std::string(stringAt(roleRef, "name")),
      age(obj, now),
      join(users, ", "),
      join(groups, ", "),
      join(serviceAccounts, ", ")};
}

Cells defaultRow(const json::object& obj, TimePoint /*now*/) {
  auto created = parseTime(metaString(obj, "creationTimestamp"));
  // Go formats the zero time as year 1.
  return Cells{name(obj), created ? formatTimeUtc(*created) : "0001-01-01T00:00:00Z"};
}

}  // namespace berth::apiserver::printers::internal
