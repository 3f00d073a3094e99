#include "kubelet/stats/summary_format.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>

namespace berth::kubelet::stats {
namespace json = boost::json;
namespace {

// RFC 3339 in seconds, UTC, as the summary API's metav1.Time fields.
std::string rfc3339(int64_t unixNanos) {
  time_t secs = static_cast<time_t>(unixNanos / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void addUsage(json::object& out, const Usage& u) {
  const Sample& s = u.sample;
  if (s.cpuUsageNanos) {
    json::object cpu{{"time", rfc3339(s.timeNanos)}};
    if (u.usageNanoCores) cpu["usageNanoCores"] = *u.usageNanoCores;
    cpu["usageCoreNanoSeconds"] = *s.cpuUsageNanos;
    out["cpu"] = std::move(cpu);
  }
  if (s.memory) {
    const MemorySample& m = *s.memory;
    json::object mem{{"time", rfc3339(s.timeNanos)}};
    if (m.availableBytes) mem["availableBytes"] = *m.availableBytes;
    mem["usageBytes"] = m.usageBytes;
    mem["workingSetBytes"] = m.workingSetBytes;
    mem["rssBytes"] = m.rssBytes;
    mem["pageFaults"] = m.pageFaults;
    mem["majorPageFaults"] = m.majorPageFaults;
    out["memory"] = std::move(mem);
  }
}

json::object fsJson(const FsStats& f) {
  return {{"time", rfc3339(f.timeNanos)},     {"availableBytes", f.availableBytes},
          {"capacityBytes", f.capacityBytes}, {"usedBytes", f.usedBytes},
          {"inodesFree", f.inodesFree},       {"inodes", f.inodes},
          {"inodesUsed", f.inodesUsed}};
}

json::object interfaceJson(const InterfaceStats& i) {
  return {{"name", i.name},
          {"rxBytes", i.rxBytes},
          {"rxErrors", i.rxErrors},
          {"txBytes", i.txBytes},
          {"txErrors", i.txErrors}};
}

// Upstream's NetworkStats: the default interface (eth0) inline, every interface in the list.
json::object networkJson(const NetworkStats& n) {
  json::object out{{"time", rfc3339(n.timeNanos)}};
  json::array list;
  for (const auto& i : n.interfaces) {
    if (i.name == "eth0")
      for (auto& [k, v] : interfaceJson(i)) out[k] = v;
    list.push_back(interfaceJson(i));
  }
  if (!list.empty()) out["interfaces"] = std::move(list);
  return out;
}

// Prometheus sample values as client_golang writes them: Go's strconv.FormatFloat(v, 'g', -1,
// 64), the shortest digits that read back exactly, in exponent form when the exponent is below
// -4 or at least 6.
std::string number(double v) {
  char buf[64];
  int digits = 17;
  for (int p = 0; p <= 16; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p, v);
    if (std::strtod(buf, nullptr) == v) {
      digits = p + 1;
      break;
    }
  }
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  int exp = std::atoi(std::strchr(buf, 'e') + 1);
  if (exp < -4 || exp >= 6) return buf;
  std::snprintf(buf, sizeof buf, "%.*f", std::max(0, digits - 1 - exp), v);
  return buf;
}

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string summaryJson(const Summary& s) {
  json::object node{{"nodeName", s.node.nodeName}};
  if (s.node.startNanos) node["startTime"] = rfc3339(s.node.startNanos);
  addUsage(node, s.node.usage);
  if (s.node.fs) node["fs"] = fsJson(*s.node.fs);
  if (s.node.maxPid)
    node["rlimit"] = json::object{{"time", rfc3339(s.node.usage.sample.timeNanos)},
                                  {"maxpid", s.node.maxPid},
                                  {"curproc", s.node.curProc}};
  json::array pods;
  for (const auto& p : s.pods) {
    json::object pod{{"podRef", {{"name", p.name}, {"namespace", p.ns}, {"uid", p.uid}}}};
    if (p.startNanos) pod["startTime"] = rfc3339(p.startNanos);
    json::array containers;
    for (const auto& c : p.containers) {
      json::object co{{"name", c.name}};
      if (c.startNanos) co["startTime"] = rfc3339(c.startNanos);
      addUsage(co, c.usage);
      if (c.rootfs) co["rootfs"] = fsJson(*c.rootfs);
      if (c.logs) co["logs"] = fsJson(*c.logs);
      containers.push_back(std::move(co));
    }
    pod["containers"] = std::move(containers);
    addUsage(pod, p.usage);
    if (p.network) pod["network"] = networkJson(*p.network);
    if (!p.volumes.empty()) {
      json::array volumes;
      for (const auto& v : p.volumes) {
        json::object vo = fsJson(v.fs);
        vo["name"] = v.name;
        if (!v.pvcName.empty())
          vo["pvcRef"] = json::object{{"name", v.pvcName}, {"namespace", v.pvcNamespace}};
        volumes.push_back(std::move(vo));
      }
      pod["volume"] = std::move(volumes);
    }
    if (p.ephemeralStorage) pod["ephemeral-storage"] = fsJson(*p.ephemeralStorage);
    pods.push_back(std::move(pod));
  }
  return json::serialize(json::object{{"node", std::move(node)}, {"pods", std::move(pods)}});
}

std::string resourceMetricsText(const Summary& s) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help,
                    const std::function<void()>& samples) {
    out += std::string("# HELP ") + name + " [STABLE] " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
    samples();
  };
  auto sample = [&](const char* name, const std::string& labels, double value, int64_t nanos) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += " " + number(value) + " " + std::to_string(nanos / 1000000) + "\n";
  };
  auto containerLabels = [](const PodStats& p, const ContainerStats& c) {
    return "container=\"" + escapeLabel(c.name) + "\",namespace=\"" + escapeLabel(p.ns) +
           "\",pod=\"" + escapeLabel(p.name) + "\"";
  };
  auto podLabels = [](const PodStats& p) {
    return "namespace=\"" + escapeLabel(p.ns) + "\",pod=\"" + escapeLabel(p.name) + "\"";
  };
  // Families in name order, as a Prometheus registry gathers them.
  family("container_cpu_usage_seconds_total", "counter",
         "Cumulative cpu time consumed by the container in core-seconds", [&] {
           for (const auto& p : s.pods)
             for (const auto& c : p.containers)
               if (c.usage.sample.cpuUsageNanos)
                 sample("container_cpu_usage_seconds_total", containerLabels(p, c),
                        static_cast<double>(*c.usage.sample.cpuUsageNanos) / 1e9,
                        c.usage.sample.timeNanos);
         });
  family("container_memory_working_set_bytes", "gauge",
         "Current working set of the container in bytes", [&] {
           for (const auto& p : s.pods)
             for (const auto& c : p.containers)
               if (c.usage.sample.memory)
                 sample("container_memory_working_set_bytes", containerLabels(p, c),
                        static_cast<double>(c.usage.sample.memory->workingSetBytes),
                        c.usage.sample.timeNanos);
         });
  family("container_start_time_seconds", "gauge",
         "Start time of the container since unix epoch in seconds", [&] {
           for (const auto& p : s.pods)
             for (const auto& c : p.containers)
               if (c.startNanos)
                 sample("container_start_time_seconds", containerLabels(p, c),
                        static_cast<double>(c.startNanos) / 1e9, c.startNanos);
         });
  const Sample& n = s.node.usage.sample;
  family("node_cpu_usage_seconds_total", "counter",
         "Cumulative cpu time consumed by the node in core-seconds", [&] {
           if (n.cpuUsageNanos)
             sample("node_cpu_usage_seconds_total", "", static_cast<double>(*n.cpuUsageNanos) / 1e9,
                    n.timeNanos);
         });
  family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes", [&] {
    if (n.memory)
      sample("node_memory_working_set_bytes", "", static_cast<double>(n.memory->workingSetBytes),
             n.timeNanos);
  });
  family("pod_cpu_usage_seconds_total", "counter",
         "Cumulative cpu time consumed by the pod in core-seconds", [&] {
           for (const auto& p : s.pods)
             if (p.usage.sample.cpuUsageNanos)
               sample("pod_cpu_usage_seconds_total", podLabels(p),
                      static_cast<double>(*p.usage.sample.cpuUsageNanos) / 1e9,
                      p.usage.sample.timeNanos);
         });
  family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes", [&] {
    for (const auto& p : s.pods)
      if (p.usage.sample.memory)
        sample("pod_memory_working_set_bytes", podLabels(p),
               static_cast<double>(p.usage.sample.memory->workingSetBytes),
               p.usage.sample.timeNanos);
  });
  // 1 when the node's own figures could not be read (upstream: any error getting the metrics).
  out +=
      "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container "
      "metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\n";
  out += std::string("resource_scrape_error ") + (n.cpuUsageNanos && n.memory ? "0" : "1") + "\n";
  return out;
}

}  // namespace berth::kubelet::stats
