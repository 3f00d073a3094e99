#include "kubelet/volumes.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/base64.h"
#include "core/volume_binding.h"
#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

using Files = std::map<std::string, std::pair<std::string, int>>;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int modeOf(const json::object& o, const char* key, int fallback) {
  return static_cast<int>(intField(o, key, fallback));
}

// data (+ binaryData) of a ConfigMap, or the decoded data of a Secret.
std::map<std::string, std::string> payloadOf(const json::object& o, bool secret) {
  std::map<std::string, std::string> out;
  if (const auto* data = obj(o, "data"))
    for (const auto& [k, v] : *data) {
      if (!v.is_string()) continue;
      std::string s(v.as_string());
      out[std::string(k)] = secret ? core::base64Decode(s).value_or("") : s;
    }
  if (!secret)
    if (const auto* bin = obj(o, "binaryData"))
      for (const auto& [k, v] : *bin)
        if (v.is_string()) out[std::string(k)] = core::base64Decode(v.as_string()).value_or("");
  return out;
}

// Adds a configMap/secret projection to `files`: every key, or the listed items.
core::Status project(const json::object& source, bool secret, const std::string& ns,
                     ObjectSource& objects, int defaultMode, Files& files) {
  std::string name = str(source, secret ? "secretName" : "name");
  if (name.empty()) name = str(source, "name");
  bool optional = boolField(source, "optional", false);
  auto o = secret ? objects.secret(ns, name) : objects.configMap(ns, name);
  if (!o.ok()) {
    if (optional && o.status().isNotFound()) return {};
    if (o.status().isNotFound())
      return core::Status::notFound(secret ? "secret" : "configmap", name);
    return o.status();
  }
  auto payload = payloadOf(*o, secret);
  int mode = modeOf(source, "defaultMode", defaultMode);
  if (const auto* items = arr(source, "items")) {
    for (const auto& i : *items) {
      if (!i.is_object()) continue;
      std::string key = str(i.as_object(), "key");
      auto it = payload.find(key);
      if (it == payload.end()) {
        if (optional) continue;
        return core::Status::badRequest("configmap references non-existent config key: " + key);
      }
      files[str(i.as_object(), "path")] = {it->second, modeOf(i.as_object(), "mode", mode)};
    }
  } else {
    for (const auto& [k, v] : payload) files[k] = {v, mode};
  }
  return {};
}

std::string downwardValue(const json::object& pod, const json::object& item,
                          const PodRuntimeFacts& facts) {
  const auto* meta = obj(pod, "metadata");
  if (const auto* ref = obj(item, "fieldRef")) {
    std::string path = str(*ref, "fieldPath");
    if ((path == "metadata.labels" || path == "metadata.annotations") && meta) {
      std::string out;
      if (const auto* m = obj(*meta, path.substr(9)))
        for (const auto& [k, v] : *m)
          if (v.is_string()) out += std::string(k) + "=\"" + std::string(v.as_string()) + "\"\n";
      return out;
    }
  }
  // Single values share the env var logic (fieldRef/resourceFieldRef).
  json::object container;
  if (const auto* spec = obj(pod, "spec"))
    if (const auto* cs = arr(*spec, "containers"); cs && !cs->empty() && (*cs)[0].is_object())
      container = (*cs)[0].as_object();
  json::object env{{"name", "V"}};
  json::object from;
  if (const auto* ref = obj(item, "fieldRef")) from["fieldRef"] = *ref;
  if (const auto* ref = obj(item, "resourceFieldRef")) from["resourceFieldRef"] = *ref;
  env["valueFrom"] = from;
  json::object probe = container;
  probe["env"] = json::array{env};
  probe.erase("envFrom");
  struct NoObjects : ObjectSource {
    core::Result<json::object> configMap(const std::string&, const std::string& n) override {
      return core::Status::notFound("configmaps", n);
    }
    core::Result<json::object> secret(const std::string&, const std::string& n) override {
      return core::Status::notFound("secrets", n);
    }
  } none;
  auto r = resolveEnv(pod, probe, none, facts);
  return r.ok() && !r->empty() ? r->front().second : std::string();
}

void addDownward(const json::object& pod, const json::object& source, int defaultMode,
                 const PodRuntimeFacts& facts, Files& files) {
  int mode = modeOf(source, "defaultMode", defaultMode);
  if (const auto* items = arr(source, "items"))
    for (const auto& i : *items)
      if (i.is_object())
        files[str(i.as_object(), "path")] = {downwardValue(pod, i.as_object(), facts),
                                             modeOf(i.as_object(), "mode", mode)};
}

core::Status setupEmptyDir(const json::object& v, const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return core::Status::internal("create " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0777);
  if (str(v, "medium") != "Memory" || runtime::isMountPoint(path)) return {};
  std::string options = "mode=0777";
  if (auto size = parseQuantity(str(v, "sizeLimit")); size && *size > 0)
    options += ",size=" + std::to_string(static_cast<long long>(std::ceil(*size)));
  if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
    return core::Status::internal("mount tmpfs on " + path + ": " + std::strerror(errno));
  return {};
}

core::Status setupHostPath(const json::object& v, std::string& path) {
  path = str(v, "path");
  std::string type = str(v, "type");
  std::error_code ec;
  if (type == "DirectoryOrCreate") {
    fs::create_directories(path, ec);
  } else if (type == "FileOrCreate" && !fs::exists(path)) {
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream(path).close();
  } else if ((type == "Directory" && !fs::is_directory(path)) ||
             (type == "File" && !fs::is_regular_file(path))) {
    return core::Status::badRequest("hostPath type check failed: " + path + " is not a " + type);
  }
  return {};
}

// A persistentVolumeClaim volume: the claim must be bound (spec.volumeName and phase Bound)
// and its PersistentVolume a hostPath or local one for this node; its directory is created here
// (0777, as the local-path provisioner's helper does), then bind-mounted like a hostPath. An
// unbound claim is an error the pod worker retries, so the pod waits in ContainerCreating.
core::Status setupClaim(const json::object& v, const std::string& ns, ObjectSource& objects,
                        const std::string& nodeName, PodVolume& out) {
  std::string claimName = str(v, "claimName");
  auto claim = objects.persistentVolumeClaim(ns, claimName);
  if (!claim.ok()) {
    if (claim.status().isNotFound())
      return core::Status::notFound("persistentvolumeclaims", claimName);
    return claim.status();
  }
  const auto* cspec = obj(*claim, "spec");
  const auto* cstatus = obj(*claim, "status");
  std::string pvName = cspec ? str(*cspec, "volumeName") : "";
  if (pvName.empty() || !cstatus || str(*cstatus, "phase") != "Bound")
    return core::Status::unavailable("PersistentVolumeClaim \"" + claimName +
                                     "\" is not bound yet");
  auto pv = objects.persistentVolume(pvName);
  if (!pv.ok()) return pv.status();
  const auto* pspec = obj(*pv, "spec");
  const json::object* source = pspec ? obj(*pspec, "hostPath") : nullptr;
  if (!source && pspec) source = obj(*pspec, "local");
  // A pod placed by nodeName (no scheduler) must not write a node-local volume's data here.
  std::string pinned = core::volumes::volumePinnedNode(*pv);
  if (!pinned.empty() && !nodeName.empty() && pinned != nodeName)
    return core::Status::badRequest("PersistentVolume \"" + pvName + "\" is on node \"" + pinned +
                                    "\", not on this node (" + nodeName + ")");
  std::string path = source ? str(*source, "path") : "";
  if (path.empty())
    return core::Status::badRequest("PersistentVolume \"" + pvName +
                                    "\" has no hostPath or local path this node can mount");
  std::error_code ec;
  if (!fs::exists(path)) {
    fs::create_directories(path, ec);
    if (ec) return core::Status::internal("create " + path + ": " + ec.message());
    ::chmod(path.c_str(), 0777);
  }
  out = {path, boolField(v, "readOnly", false)};
  return {};
}

}  // namespace

core::Result<bool> writeAtomically(const std::string& dir, const Files& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path data = fs::path(dir) / "..data";
  // Unchanged? Same names, same contents.
  if (fs::exists(data)) {
    bool same = true;
    size_t count = 0;
    for (const auto& e : fs::recursive_directory_iterator(data, ec))
      if (e.is_regular_file()) ++count;
    same = count == files.size();
    for (const auto& [path, content] : files) {
      if (!same) break;
      same = readFile(data / path) == content.first;
    }
    if (same) return false;
  }
  static std::atomic<long> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string stamp = "..tmp_" + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()) +
                      "_" + std::to_string(counter++);
  fs::path target = fs::path(dir) / stamp;
  fs::create_directories(target, ec);
  std::set<std::string> top;
  for (const auto& [path, content] : files) {
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos) continue;
    fs::path file = target / path;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream(file, std::ios::binary) << content.first;
    ::chmod(file.c_str(), static_cast<mode_t>(content.second & 07777));
    top.insert(fs::path(path).begin()->string());
  }
  ::chmod(target.c_str(), 0755);
  std::string old = fs::exists(data) ? fs::read_symlink(data, ec).string() : "";
  fs::path tmpLink = fs::path(dir) / "..data_tmp";
  fs::remove(tmpLink, ec);
  fs::create_symlink(stamp, tmpLink, ec);
  if (ec) return core::Status::internal("symlink in " + dir + ": " + ec.message());
  fs::rename(tmpLink, data, ec);
  if (ec) return core::Status::internal("rename in " + dir + ": " + ec.message());
  for (const auto& name : top) {
    fs::path link = fs::path(dir) / name;
    if (!fs::is_symlink(link)) fs::create_symlink(fs::path("..data") / name, link, ec);
  }
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename();
    if (name.rfind("..", 0) == 0) continue;
    if (!top.count(name) && fs::is_symlink(e.path())) fs::remove(e.path(), ec);
  }
  if (!old.empty() && old != stamp) fs::remove_all(fs::path(dir) / old, ec);
  return true;
}

core::Result<std::map<std::string, PodVolume>> setupVolumes(const json::object& pod,
                                                            const std::string& podDir,
                                                            ObjectSource& objects,
                                                            TokenSource* tokens,
                                                            const PodRuntimeFacts& facts) {
  std::map<std::string, PodVolume> out;
  const auto* spec = obj(pod, "spec");
  const auto* volumes = spec ? arr(*spec, "volumes") : nullptr;
  if (!volumes) return out;
  const auto* meta = obj(pod, "metadata");
  std::string ns = meta ? str(*meta, "namespace") : "";
  for (const auto& vv : *volumes) {
    if (!vv.is_object()) continue;
    const auto& v = vv.as_object();
    std::string name = str(v, "name");
    std::string path = podDir + "/volumes/" + name;
    core::Status st;
    Files files;
    bool projected = false;
    if (const auto* e = obj(v, "emptyDir")) {
      st = setupEmptyDir(*e, path);
      out[name] = {path, false};
    } else if (const auto* h = obj(v, "hostPath")) {
      std::string host;
      st = setupHostPath(*h, host);
      out[name] = {host, false};
    } else if (const auto* pvc = obj(v, "persistentVolumeClaim")) {
      st = setupClaim(*pvc, ns, objects, facts.nodeName, out[name]);
    } else if (const auto* c = obj(v, "configMap")) {
      projected = true;
      st = project(*c, false, ns, objects, 0644, files);
    } else if (const auto* s = obj(v, "secret")) {
      projected = true;
      st = project(*s, true, ns, objects, 0644, files);
    } else if (const auto* d = obj(v, "downwardAPI")) {
      projected = true;
      addDownward(pod, *d, 0644, facts, files);
    } else if (const auto* p = obj(v, "projected")) {
      projected = true;
      int mode = modeOf(*p, "defaultMode", 0644);
      if (const auto* sources = arr(*p, "sources")) {
        for (const auto& src : *sources) {
          if (!src.is_object() || !st.ok()) continue;
          const auto& so = src.as_object();
          json::object withMode;
          if (const auto* c = obj(so, "configMap")) {
            st = project(*c, false, ns, objects, mode, files);
          } else if (const auto* s = obj(so, "secret")) {
            st = project(*s, true, ns, objects, mode, files);
          } else if (const auto* d = obj(so, "downwardAPI")) {
            addDownward(pod, *d, mode, facts, files);
          } else if (const auto* t = obj(so, "serviceAccountToken"); t && tokens) {
            std::string sa = spec ? str(*spec, "serviceAccountName") : "";
            auto token = tokens->token(ns, sa.empty() ? "default" : sa,
                                       meta ? str(*meta, "name") : "", meta ? str(*meta, "uid") : "",
                                       str(*t, "audience"),
                                       intField(*t, "expirationSeconds", 3607));
            // Without TokenRequest in the API the file is left out (pods that do not talk to
            // the API run unchanged); see docs/decisions.md.
            if (token.ok()) files[str(*t, "path")] = {*token, mode};
          }
        }
      }
    } else {
      continue;  // other volume types are not handled by this node yet
    }
    if (!st.ok()) return st;
    if (projected) {
      auto w = writeAtomically(path, files);
      if (!w.ok()) return w.status();
      out[name] = {path, true};
    }
  }
  return out;
}

void teardownVolumes(const std::string& podDir) {
  std::error_code ec;
  std::string dir = podDir + "/volumes";
  for (const auto& e : fs::directory_iterator(dir, ec)) runtime::unmountIfMounted(e.path());
  fs::remove_all(dir, ec);
}

}  // namespace berth::kubelet
