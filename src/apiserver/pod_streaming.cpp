#include "apiserver/pod_streaming.h"

#include <boost/json.hpp>
#include <poll.h>

#include <filesystem>
#include <fstream>

#include "apiserver/http/pki.h"
#include "apiserver/kubelet_connection.h"
#include "apiserver/replies.h"
#include "core/json_access.h"

namespace berth::apiserver {
namespace json = boost::json;
using core::Status;

namespace {

constexpr const char* kKubeletClientName = "kube-apiserver-kubelet-client";

const json::array* arrayAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

// The container the request names, or the pod's default one; BadRequest as upstream words it.
core::Result<std::string> pickContainer(const json::object& pod, const std::string& podName,
                                        std::string requested) {
  const json::object* spec = core::objectField(pod, "spec");
  std::vector<std::string> names;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    if (spec == nullptr) break;
    if (const json::array* a = arrayAt(*spec, list)) {
      for (const auto& c : *a)
        if (c.is_object()) names.push_back(core::stringField(c.as_object(), "name"));
    }
  }
  if (requested.empty()) {
    if (const json::object* meta = core::objectField(pod, "metadata")) {
      if (const json::object* ann = core::objectField(*meta, "annotations"))
        requested = core::stringField(*ann, "kubectl.kubernetes.io/default-container");
    }
  }
  if (requested.empty()) {
    size_t regular = 0;
    if (spec != nullptr)
      if (const json::array* a = arrayAt(*spec, "containers")) regular = a->size();
    if (regular == 1) return names.front();
    std::string list;
    for (size_t i = 0; i < regular; ++i) list += (i ? " " : "") + names[i];
    return Status::badRequest("a container name must be specified for pod " + podName +
                              ", choose one of: [" + list + "]");
  }
  for (const auto& n : names)
    if (n == requested) return requested;
  return Status::badRequest("container " + requested + " is not valid for pod " + podName);
}

// A container that has not started has nothing to stream yet (the kubelet's wording).
Status checkStarted(const json::object& pod, const std::string& podName,
                    const std::string& container) {
  const json::object* status = core::objectField(pod, "status");
  std::string waiting = "ContainerCreating";
  if (status != nullptr) {
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      const json::array* a = arrayAt(*status, list);
      if (a == nullptr) continue;
      for (const auto& cs : *a) {
        if (!cs.is_object() || core::stringField(cs.as_object(), "name") != container) continue;
        const json::object* state = core::objectField(cs.as_object(), "state");
        const json::object* w = state ? core::objectField(*state, "waiting") : nullptr;
        if (w == nullptr) return {};
        std::string reason = core::stringField(*w, "reason");
        if (!reason.empty()) waiting = reason;
      }
    }
  }
  return Status::badRequest("container \"" + container + "\" in pod \"" + podName +
                            "\" is waiting to start: " + waiting);
}

core::Result<KubeletAddress> nodeAddress(Registry& registry, const std::string& nodeName) {
  const auto* nodes = core::findResource("", "v1", "nodes");
  auto node = registry.get(*nodes, "", nodeName);
  if (!node.ok()) return node.status();
  json::value v = json::parse((*node)->json);
  const json::object* status = core::objectField(v.as_object(), "status");
  KubeletAddress address;
  if (status != nullptr) {
    if (const json::array* addrs = arrayAt(*status, "addresses")) {
      // The first InternalIP (a dual-stack node lists one per family, the kubelet's own
      // address first), else a Hostname.
      bool internal = false;
      for (const auto& a : *addrs) {
        if (!a.is_object()) continue;
        std::string type = core::stringField(a.as_object(), "type");
        if ((type == "InternalIP" && !internal) || (address.host.empty() && type == "Hostname"))
          address.host = core::stringField(a.as_object(), "address");
        internal = internal || type == "InternalIP";
      }
    }
    const json::object* endpoints = core::objectField(*status, "daemonEndpoints");
    const json::object* kubelet =
        endpoints ? core::objectField(*endpoints, "kubeletEndpoint") : nullptr;
    if (kubelet != nullptr) {
      if (const json::value* p = kubelet->if_contains("Port"); p && p->is_int64())
        address.port = static_cast<int>(p->as_int64());
    }
  }
  if (address.host.empty())
    return Status::badRequest("node " + nodeName + " has no address for its kubelet");
  return address;
}

// Reads the kubelet's response head; `rest` gets the bytes read past it.
bool readHead(KubeletConnection& k, int* status,
              std::vector<std::pair<std::string, std::string>>* headers, std::string* rest) {
  std::string buf;
  char chunk[4096];
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    size_t n = k.readSome(chunk, sizeof(chunk));
    if (n == 0 || buf.size() > 64 * 1024) return false;
    buf.append(chunk, n);
  }
  *rest = buf.substr(end + 4);
  size_t lineEnd = buf.find("\r\n");
  std::string statusLine = buf.substr(0, lineEnd);
  size_t sp = statusLine.find(' ');
  if (sp == std::string::npos) return false;
  *status = std::atoi(statusLine.c_str() + sp + 1);
  size_t pos = lineEnd + 2;
  while (pos < end) {
    size_t e = buf.find("\r\n", pos);
    std::string line = buf.substr(pos, e - pos);
    pos = e + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers->emplace_back(name, value);
  }
  return true;
}

bool waitReadable(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) != 0;  // readable, hung up, or failed: a read will tell
}

// Relays the kubelet's chunked (or close-delimited) body to the client as it arrives.
void relayBody(KubeletConnection& k, http::ResponseWriter& w, std::string data, bool chunked) {
  char chunk[16384];
  auto more = [&]() {
    // A quiet `logs -f` must not outlive its client: check it while the kubelet has nothing.
    while (!k.pending() && !waitReadable(k.fd(), 1000)) {
      if (!w.clientConnected()) return false;
    }
    size_t n = k.readSome(chunk, sizeof(chunk));
    if (n == 0) return false;
    data.append(chunk, n);
    return true;
  };
  if (!chunked) {
    do {
      if (!data.empty() && !w.writeChunk(data)) return;
      data.clear();
    } while (more());
    return;
  }
  for (;;) {
    size_t lineEnd;
    while ((lineEnd = data.find("\r\n")) == std::string::npos)
      if (!more()) return;
    size_t size = std::strtoul(data.c_str(), nullptr, 16);
    if (size == 0) return;
    while (data.size() < lineEnd + 2 + size + 2)
      if (!more()) return;
    if (!w.writeChunk(std::string_view(data).substr(lineEnd + 2, size))) return;
    data.erase(0, lineEnd + 2 + size + 2);
  }
}

// Both directions of an upgraded connection, on this thread.
void relayUpgraded(http::RawStream& client, KubeletConnection& k, const std::string& early) {
  if (!early.empty() && !client.writeAll(early)) return;
  char buf[32768];
  for (;;) {
    bool clientReady = client.inputPending();
    bool kubeletReady = k.pending();
    if (!clientReady && !kubeletReady) {
      pollfd fds[2] = {{client.pollFd(), POLLIN, 0}, {k.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      clientReady = fds[0].revents != 0;
      kubeletReady = fds[1].revents != 0;
    }
    if (clientReady) {
      size_t n = client.readSome(buf, sizeof(buf));
      if (n == 0 || !k.writeAll(std::string_view(buf, n))) return;
    }
    if (kubeletReady) {
      size_t n = k.readSome(buf, sizeof(buf));
      if (n == 0 || !client.writeAll(std::string_view(buf, n))) return;
    }
  }
}

}  // namespace

PodStreamProxy::PodStreamProxy(Registry& registry, std::string tlsDir)
    : registry_(registry), tlsDir_(std::move(tlsDir)) {
  certFile_ = tlsDir_ + "/kubelet-client.crt";
  keyFile_ = tlsDir_ + "/kubelet-client.key";
}

core::Status PodStreamProxy::init() {
  if (std::filesystem::exists(certFile_) && std::filesystem::exists(keyFile_)) return {};
  std::string cert, key;
  if (auto st = http::issueClientCert(tlsDir_, kKubeletClientName, {"system:masters"}, &cert, &key);
      !st.ok())
    return st;
  std::ofstream(certFile_) << cert;
  std::ofstream k(keyFile_);
  std::filesystem::permissions(
      keyFile_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  k << key;
  return {};
}

bool PodStreamProxy::handles(const RequestTarget& t) {
  if (t.rt != nullptr && t.rt->group.empty() && t.rt->plural == "nodes")
    return t.subresource == "proxy" && !t.name.empty();
  return t.rt != nullptr && t.rt->group.empty() && t.rt->plural == "pods" &&
         (t.subresource == "log" || t.subresource == "exec" || t.subresource == "attach" ||
          t.subresource == "portforward");
}

void PodStreamProxy::serve(http::Request& req, http::ResponseWriter& w, const RequestTarget& t) {
  if (t.rt->plural == "nodes") {
    serveNodeProxy(req, w, t);
    return;
  }
  bool isLog = t.subresource == "log";
  if (isLog ? req.method != "GET" : (req.method != "GET" && req.method != "POST")) {
    sendStatus(w, Status::methodNotSupported(
                      "the server does not allow this method on the requested resource"));
    return;
  }
  auto pod = registry_.get(*t.rt, t.ns, t.name);
  if (!pod.ok()) {
    sendStatus(w, pod.status());
    return;
  }
  json::value podValue = json::parse((*pod)->json);
  const json::object& podObj = podValue.as_object();
  std::string container;
  if (t.subresource != "portforward") {
    auto picked = pickContainer(podObj, t.name, req.queryParam("container"));
    if (!picked.ok()) {
      sendStatus(w, picked.status());
      return;
    }
    container = *picked;
  }
  const json::object* spec = core::objectField(podObj, "spec");
  std::string nodeName = spec ? core::stringField(*spec, "nodeName") : "";
  if (nodeName.empty()) {
    sendStatus(w, Status::badRequest("pod " + t.name + " does not have a host assigned"));
    return;
  }
  if (!container.empty() && !(isLog && req.queryParam("previous") == "true")) {
    if (auto st = checkStarted(podObj, t.name, container); !st.ok()) {
      sendStatus(w, st);
      return;
    }
  }
  auto address = nodeAddress(registry_, nodeName);
  if (!address.ok()) {
    sendStatus(w, address.status());
    return;
  }
  static const std::map<std::string, std::string> kPaths = {{"log", "/containerLogs/"},
                                                            {"exec", "/exec/"},
                                                            {"attach", "/attach/"},
                                                            {"portforward", "/portForward/"}};
  std::string target = kPaths.at(t.subresource) + t.ns + "/" + t.name;
  if (!container.empty()) target += "/" + container;
  if (size_t q = req.rawTarget.find('?'); q != std::string::npos) target += req.rawTarget.substr(q);
  forward(req, w, nodeName, *address, target);
}

// nodes/{name}/proxy/{path}: the kubelet API's own paths (/stats/summary, /metrics/resource,
// /containerLogs/...) through the API server, authorized as the nodes/proxy subresource.
void PodStreamProxy::serveNodeProxy(http::Request& req, http::ResponseWriter& w,
                                    const RequestTarget& t) {
  if (req.method != "GET" && req.method != "HEAD") {
    sendStatus(w, Status::methodNotSupported("nodes/proxy supports GET only"));
    return;
  }
  auto address = nodeAddress(registry_, t.name);
  if (!address.ok()) {
    sendStatus(w, address.status());
    return;
  }
  // The path after ".../nodes/{name}/proxy", as the client sent it (still percent-encoded).
  std::string marker = "/nodes/" + t.name + "/proxy";
  std::string raw = req.rawTarget;
  size_t at = raw.find(marker);
  std::string target = at == std::string::npos ? "/" : raw.substr(at + marker.size());
  if (target.empty() || target[0] != '/') target.insert(0, "/");
  forward(req, w, t.name, *address, target);
}

void PodStreamProxy::forward(http::Request& req, http::ResponseWriter& w,
                             const std::string& nodeName, const KubeletAddress& address,
                             const std::string& target) {
  auto kubelet = KubeletConnection::open(address.host, address.port, certFile_, keyFile_);
  if (!kubelet.ok()) {
    sendStatus(w, Status::internal(kubelet.status().message()));
    return;
  }
  std::string head = req.method + " " + target + " HTTP/1.1\r\nHost: " + address.host + ":" +
                     std::to_string(address.port) + "\r\n";
  for (const char* name : {"connection", "upgrade", "sec-websocket-key", "sec-websocket-version",
                           "sec-websocket-protocol", "x-stream-protocol-version", "user-agent"}) {
    std::string value = req.header(name);
    if (!value.empty()) head += std::string(name) + ": " + value + "\r\n";
  }
  if (!req.isUpgrade()) head += "Connection: close\r\n";
  head += "Content-Length: 0\r\n\r\n";
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string rest;
  if (!(*kubelet)->writeAll(head) || !readHead(**kubelet, &status, &headers, &rest)) {
    sendStatus(w, Status::internal("no answer from the kubelet on node " + nodeName));
    return;
  }
  std::string contentType = "text/plain";
  bool chunked = false;
  for (const auto& [name, value] : headers) {
    if (name == "content-type")
      contentType = value;
    else if (name == "transfer-encoding")
      chunked = value.find("chunked") != std::string::npos;
    else if (name != "content-length" && name != "connection" && name != "date" &&
             name != "server" && (status == 101 || name.rfind("x-", 0) == 0))
      w.addHeader(name, value);
  }
  if (status == 101) {
    w.addHeader("Connection", "Upgrade");
    if (http::RawStream* raw = w.switchProtocols()) relayUpgraded(*raw, **kubelet, rest);
    return;
  }
  if (!w.beginStream(status, contentType)) return;
  relayBody(**kubelet, w, std::move(rest), chunked);
  w.endStream();
}

}  // namespace berth::apiserver
