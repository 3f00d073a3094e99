#include "simulate/node_objects.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/json_access.h"

namespace berth::simulate {

namespace json = boost::json;
using core::objectField;
using core::stringField;

namespace {

// A stable 64-hex-digit id derived from `text` (FNV-1a, four seeds): container and image ids
// look like containerd's sha256 ids and stay the same for the same input.
std::string fakeDigest(const std::string& text) {
  std::string out;
  for (uint64_t seed : {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0x9e3779b97f4a7c15ull,
                        0x7f4a7c159e3779b9ull}) {
    uint64_t h = seed;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    out += buf;
  }
  return out;
}

// The image reference as containerd reports it: "nginx" → "docker.io/library/nginx:latest".
std::string normalizeImage(std::string image) {
  auto slash = image.find('/');
  std::string first = slash == std::string::npos ? "" : image.substr(0, slash);
  bool hasRegistry = first.find_first_of(".:") != std::string::npos || first == "localhost";
  if (slash == std::string::npos) {
    image = "docker.io/library/" + image;
  } else if (!hasRegistry) {
    image = "docker.io/" + image;
  }
  auto lastSlash = image.rfind('/');
  if (image.find('@') == std::string::npos && image.find(':', lastSlash) == std::string::npos)
    image += ":latest";
  return image;
}

json::object condition(const char* type, const char* status, const std::string& now) {
  return json::object{
      {"type", type}, {"status", status}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
}

json::array containerStatuses(const json::object& spec, const char* field, bool init,
                              const std::string& podUid, const std::string& now) {
  json::array out;
  const json::value* cs = spec.if_contains(field);
  if (!cs || !cs->is_array()) return out;
  for (const auto& cv : cs->as_array()) {
    if (!cv.is_object()) continue;
    std::string name = stringField(cv.as_object(), "name");
    std::string image = normalizeImage(stringField(cv.as_object(), "image"));
    json::object st{{"name", name},
                    {"image", image},
                    {"imageID", image.substr(0, image.rfind(':')) + "@sha256:" + fakeDigest(image)},
                    {"containerID", "containerd://" + fakeDigest(podUid + "/" + name)},
                    {"restartCount", 0},
                    {"lastState", json::object()}};
    if (init) {
      st["state"] = json::object{{"terminated",
                                  {{"exitCode", 0},
                                   {"reason", "Completed"},
                                   {"startedAt", now},
                                   {"finishedAt", now},
                                   {"containerID", st["containerID"]}}}};
      st["ready"] = true;
      st["started"] = false;
    } else {
      st["state"] = json::object{{"running", {{"startedAt", now}}}};
      st["ready"] = true;
      st["started"] = true;
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace

std::string nowMicroTime() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

json::array nodeConditions(const json::object* previous, const std::string& now) {
  struct Want {
    const char* type;
    const char* status;
    const char* reason;
    const char* message;
  };
  static const Want kWant[] = {
      {"MemoryPressure", "False", "KubeletHasSufficientMemory",
       "kubelet has sufficient memory available"},
      {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
      {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
      {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
  };
  const json::value* prev = nullptr;
  if (previous)
    if (const auto* st = objectField(*previous, "status")) prev = st->if_contains("conditions");
  json::array out;
  for (const auto& w : kWant) {
    std::string transition = now;
    if (prev && prev->is_array()) {
      for (const auto& c : prev->as_array()) {
        if (c.is_object() && stringField(c.as_object(), "type") == w.type &&
            stringField(c.as_object(), "status") == w.status) {
          std::string t = stringField(c.as_object(), "lastTransitionTime");
          if (!t.empty()) transition = t;
        }
      }
    }
    out.push_back(json::object{{"type", w.type},
                               {"status", w.status},
                               {"lastHeartbeatTime", now},
                               {"lastTransitionTime", transition},
                               {"reason", w.reason},
                               {"message", w.message}});
  }
  return out;
}

bool conditionsDiffer(const json::object& node) {
  json::array healthy = nodeConditions(&node, "");
  const auto* st = objectField(node, "status");
  const json::value* have = st ? st->if_contains("conditions") : nullptr;
  for (const auto& w : healthy) {
    bool found = false;
    if (have && have->is_array()) {
      for (const auto& c : have->as_array()) {
        found =
            found || (c.is_object() &&
                      stringField(c.as_object(), "type") == stringField(w.as_object(), "type") &&
                      stringField(c.as_object(), "status") == stringField(w.as_object(), "status"));
      }
    }
    if (!found) return true;
  }
  return false;
}

json::object makeNode(const NodeShape& s, const std::string& now) {
  json::object resources{{"cpu", s.cpu},
                         {"memory", s.memory},
                         {"pods", s.pods},
                         {"ephemeral-storage", s.ephemeralStorage}};
  std::string id = fakeDigest(s.name).substr(0, 32);
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", s.name},
        {"labels",
         {{"kubernetes.io/hostname", s.name},
          {"kubernetes.io/os", "linux"},
          {"kubernetes.io/arch", s.arch},
          {"beta.kubernetes.io/os", "linux"},
          {"beta.kubernetes.io/arch", s.arch}}},
        {"annotations",
         {{"node.alpha.kubernetes.io/ttl", "0"},
          {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
      {"spec", json::object()},
      {"status",
       {{"capacity", resources},
        {"allocatable", resources},
        {"conditions", nodeConditions(nullptr, now)},
        {"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", s.internalIp}},
                                  json::object{{"type", "Hostname"}, {"address", s.name}}}},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
        {"nodeInfo",
         {{"machineID", id},
          {"systemUUID", id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" +
                             id.substr(16, 4) + "-" + id.substr(20, 12)},
          {"bootID", fakeDigest(s.name + now).substr(0, 32)},
          {"kernelVersion", "6.1.0-berth-simulated"},
          {"osImage", "Berth simulated node"},
          {"containerRuntimeVersion", "containerd://1.7.24"},
          {"kubeletVersion", "v1.32.0"},
          {"kubeProxyVersion", "v1.32.0"},
          {"operatingSystem", "linux"},
          {"architecture", s.arch}}}}}};
}

json::object makeLease(const std::string& node, const std::string& nodeUid,
                       const std::string& renewTime) {
  json::object meta{{"name", node}, {"namespace", "kube-node-lease"}};
  if (!nodeUid.empty()) {
    meta["ownerReferences"] = json::array{
        json::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}, {"uid", nodeUid}}};
  }
  return json::object{
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", std::move(meta)},
      {"spec", {{"holderIdentity", node}, {"leaseDurationSeconds", 40}, {"renewTime", renewTime}}}};
}

namespace {
json::array podIpList(const std::vector<std::string>& podIps) {
  json::array out;
  for (const auto& ip : podIps) out.push_back(json::object{{"ip", ip}});
  return out;
}
}  // namespace

json::object runningPodStatusPatch(const json::object& pod, const std::vector<std::string>& podIps,
                                   const std::string& hostIp, const std::string& now) {
  const json::object* meta = objectField(pod, "metadata");
  std::string uid = meta ? stringField(*meta, "uid") : "";
  static const json::object kEmpty;
  const json::object* spec = objectField(pod, "spec");
  const json::object& sp = spec ? *spec : kEmpty;
  const json::object* st = objectField(pod, "status");
  std::string startTime = st ? stringField(*st, "startTime") : "";
  if (startTime.empty()) startTime = now;
  json::array conditions;
  for (const char* t :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"})
    conditions.push_back(condition(t, "True", now));
  json::object status{{"phase", "Running"},
                      {"conditions", std::move(conditions)},
                      {"hostIP", hostIp},
                      {"hostIPs", json::array{json::object{{"ip", hostIp}}}},
                      {"podIP", podIps.empty() ? std::string() : podIps.front()},
                      {"podIPs", podIpList(podIps)},
                      {"startTime", startTime},
                      {"containerStatuses", containerStatuses(sp, "containers", false, uid, now)}};
  json::array init = containerStatuses(sp, "initContainers", true, uid, now);
  if (!init.empty()) status["initContainerStatuses"] = std::move(init);
  return json::object{{"metadata", {{"uid", uid}}}, {"status", std::move(status)}};
}

bool podShowsRunning(const json::object& pod, const std::vector<std::string>& podIps) {
  const json::object* st = objectField(pod, "status");
  if (!st || stringField(*st, "phase") != "Running") return false;
  const json::value* ips = st->if_contains("podIPs");
  if (!ips || *ips != json::value(podIpList(podIps))) return false;
  const json::value* cs = st->if_contains("conditions");
  if (!cs || !cs->is_array()) return false;
  for (const auto& c : cs->as_array()) {
    if (c.is_object() && stringField(c.as_object(), "type") == "Ready")
      return stringField(c.as_object(), "status") == "True";
  }
  return false;
}

PodIpAllocator::PodIpAllocator(core::IpCidr cidr)
    : cidr_(cidr),
      used_(cidr.bits() - cidr.prefix >= 16 ? size_t{1} << 16
                                             : size_t{1} << (cidr.bits() - cidr.prefix),
            false) {
  // Network address and gateway; the broadcast address when the block has one.
  for (size_t i = 0; i < std::min<size_t>(2, used_.size()); ++i) used_[i] = true;
  if (lastIsBroadcast() && used_.size() > 2) used_.back() = true;
}

PodIpAllocator::PodIpAllocator(core::Ipv4Cidr cidr)
    : PodIpAllocator(core::IpCidr{cidr.base, cidr.prefix, false}) {}

bool PodIpAllocator::lastIsBroadcast() const {
  return !cidr_.ipv6 && cidr_.bits() - cidr_.prefix <= 16;
}

std::optional<std::string> PodIpAllocator::allocate() {
  for (size_t i = 0; i < used_.size(); ++i) {
    if (!used_[i]) {
      used_[i] = true;
      ++count_;
      return core::formatIp(cidr_.base + i, cidr_.ipv6);
    }
  }
  return std::nullopt;
}

std::optional<size_t> PodIpAllocator::indexOf(const std::string& ip) const {
  if (ip.find('/') != std::string::npos) return std::nullopt;
  auto a = core::parseIpCidr(ip + (cidr_.ipv6 ? "/128" : "/32"));
  if (!a.ok() || a->ipv6 != cidr_.ipv6 || !cidr_.contains(a->base)) return std::nullopt;
  core::Uint128 i = a->base - cidr_.base;
  if (i >= used_.size()) return std::nullopt;
  return static_cast<size_t>(i);
}

bool PodIpAllocator::reserve(const std::string& ip) {
  auto i = indexOf(ip);
  if (!i || *i < 2 || (*i == used_.size() - 1 && lastIsBroadcast())) return false;
  if (!used_[*i]) ++count_;
  used_[*i] = true;
  return true;
}

void PodIpAllocator::release(const std::string& ip) {
  auto i = indexOf(ip);
  if (!i || *i < 2 || !used_[*i]) return;
  if (*i == used_.size() - 1 && lastIsBroadcast()) return;
  used_[*i] = false;
  --count_;
}

}  // namespace berth::simulate
