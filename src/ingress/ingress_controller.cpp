#include "ingress/ingress_controller.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>

#include "core/base64.h"
#include "core/json_access.h"
#include "ingress/nginx_config.h"

extern char** environ;

namespace berth::ingress {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::objectField;
using core::Status;
using core::stringField;

namespace {

const client::Resource kIngresses{"networking.k8s.io", "v1", "ingresses", true};
const client::Resource kClasses{"networking.k8s.io", "v1", "ingressclasses", false};
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
const client::Resource kSecrets{"", "v1", "secrets", true};
constexpr const char* kController = "berth.dev/ingress-nginx";
constexpr const char* kDefaultAnnotation = "ingressclass.kubernetes.io/is-default-class";

bool writeIfChanged(const std::string& path, const std::string& data, mode_t mode) {
  std::ifstream in(path, std::ios::binary);
  std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.good() || !old.empty()) {
    if (old == data) return false;
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
  }
  ::chmod(tmp.c_str(), mode);
  fs::rename(tmp, path);
  return true;
}

int runQuiet(const std::vector<std::string>& argv, std::string* output) {
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  cmd += "2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) output->append(buf, n);
  int rc = ::pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

IngressController::IngressController(client::RestClient& client, IngressOptions options)
    : client_(client), o_(std::move(options)) {}

IngressController::~IngressController() { stop(); }

core::Status IngressController::start() {
  std::error_code ec;
  fs::create_directories(o_.stateDir + "/tmp", ec);
  fs::create_directories(o_.stateDir + "/tls", ec);
  ::chmod(o_.stateDir.c_str(), 0700);
  if (ec) return Status::internal("cannot create " + o_.stateDir + ": " + ec.message());
  if (::access(o_.nginxBinary.c_str(), X_OK) != 0)
    return Status::internal("the ingress controller needs nginx at " + o_.nginxBinary +
                            " (apt-get install nginx-light or nginx)");
  factory_ = std::make_unique<client::SharedInformerFactory>(client_, std::chrono::minutes(10));
  ingresses_ = &factory_->forResource(kIngresses);
  classes_ = &factory_->forResource(kClasses);
  services_ = &factory_->forResource(kServices);
  slices_ = &factory_->forResource(kSlices);
  secrets_ = &factory_->forResource(kSecrets);
  client::EventHandler h;
  h.onAdd = [this](const client::ObjectPtr&) { markDirty(); };
  h.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr&) { markDirty(); };
  h.onDelete = [this](const client::DeletedObject&) { markDirty(); };
  for (auto* i : {ingresses_, classes_, services_, slices_, secrets_}) i->addEventHandler(h);
  factory_->start();
  if (!factory_->waitForCacheSync(std::chrono::seconds(30)))
    return Status::internal("ingress controller: caches did not sync");
  if (auto st = ensureClass(); !st.ok())
    std::cerr << "berth: ingress: " << st.message() << "\n";
  // The first configuration before nginx starts, so it never serves an empty one.
  if (auto st = sync(); !st.ok()) return st;
  if (auto st = startNginx(); !st.ok()) return st;
  loop_ = std::thread([this] { loop(); });
  return {};
}

void IngressController::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (factory_) factory_->shutdown();
  if (nginx_ > 0) {
    ::kill(nginx_, SIGQUIT);  // graceful: finish open requests
    bool exited = false;
    for (int i = 0; i < 50 && !exited; ++i) {
      exited = ::waitpid(nginx_, nullptr, WNOHANG) == nginx_;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(-nginx_, SIGKILL);  // whatever of the group is left (workers outliving the master)
    if (!exited) ::waitpid(nginx_, nullptr, 0);
    nginx_ = -1;
  }
}

void IngressController::markDirty() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void IngressController::loop() {
  auto lastStatus = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(2), [this] { return dirty_ || stopping_; });
      if (stopping_) return;
      dirty_ = false;
    }
    superviseNginx();
    if (auto st = sync(); !st.ok()) std::cerr << "berth: ingress: " << st.message() << "\n";
    (void)lastStatus;
    std::this_thread::sleep_for(o_.minSyncInterval);
  }
}

core::Status IngressController::ensureClass() {
  bool haveDefault = false, haveOurs = false;
  for (const auto& c : classes_->lister().list("")) {
    const auto& o = c->as_object();
    const auto* meta = objectField(o, "metadata");
    if (meta && stringField(*meta, "name") == o_.className) haveOurs = true;
    if (const auto* ann = meta ? objectField(*meta, "annotations") : nullptr)
      if (stringField(*ann, kDefaultAnnotation) == "true") haveDefault = true;
  }
  if (haveOurs) return {};
  json::object meta{{"name", o_.className}};
  if (!haveDefault) meta["annotations"] = json::object{{kDefaultAnnotation, "true"}};
  json::object cls{{"apiVersion", "networking.k8s.io/v1"},
                   {"kind", "IngressClass"},
                   {"metadata", std::move(meta)},
                   {"spec", json::object{{"controller", kController}}}};
  auto r = client_.create(kClasses, "", cls);
  if (!r.ok() && !r.status().isAlreadyExists()) return r.status();
  return {};
}

bool IngressController::serves(const json::object& ing) const {
  const auto* spec = objectField(ing, "spec");
  std::string cls = spec ? stringField(*spec, "ingressClassName") : "";
  if (cls.empty()) {
    if (const auto* meta = objectField(ing, "metadata"))
      if (const auto* ann = objectField(*meta, "annotations"))
        cls = stringField(*ann, "kubernetes.io/ingress.class");
  }
  if (cls.empty()) {
    // No class: ours when ours is the default (upstream's admission fills the default class in
    // on create; Ingresses created before a default existed have none).
    auto mine = classes_->lister().get("", o_.className);
    if (!mine) return false;
    const auto* meta = objectField(mine->as_object(), "metadata");
    const auto* ann = meta ? objectField(*meta, "annotations") : nullptr;
    return ann && stringField(*ann, kDefaultAnnotation) == "true";
  }
  if (cls == o_.className) return true;
  auto c = classes_->lister().get("", cls);
  if (!c) return false;
  const auto* spec2 = objectField(c->as_object(), "spec");
  return spec2 && stringField(*spec2, "controller") == kController;
}

core::Status IngressController::sync() {
  NginxInput in;
  in.stateDir = o_.stateDir;
  in.httpPort = o_.httpPort;
  in.httpsPort = o_.httpsPort;
  in.listenAddress = o_.listenAddress;
  for (const auto& i : ingresses_->lister().list("")) {
    if (i->is_object() && serves(i->as_object())) in.ingresses.push_back(i->as_object());
  }
  // A Service port (number or name) → the EndpointSlice port name → ready endpoints.
  in.endpoints = [this](const std::string& ns, const std::string& name, const std::string& port) {
    std::vector<std::string> out;
    auto svc = services_->lister().get(ns, name);
    if (!svc) return out;
    std::string portName;
    bool found = false;
    const auto* spec = objectField(svc->as_object(), "spec");
    if (auto* ports = spec ? spec->if_contains("ports") : nullptr; ports && ports->is_array()) {
      for (const auto& p : ports->as_array()) {
        if (!p.is_object()) continue;
        const auto& po = p.as_object();
        std::string num;
        if (auto* n = po.if_contains("port"); n && n->is_int64()) num = std::to_string(n->as_int64());
        if (num == port || stringField(po, "name") == port) {
          portName = stringField(po, "name");
          found = true;
          break;
        }
      }
    }
    if (!found) return out;
    std::set<std::string> seen;
    for (const auto& s : slices_->lister().list(ns)) {
      const auto& so = s->as_object();
      const auto* meta = objectField(so, "metadata");
      const auto* labels = meta ? objectField(*meta, "labels") : nullptr;
      if (!labels || stringField(*labels, "kubernetes.io/service-name") != name) continue;
      int64_t target = 0;
      if (auto* ports = so.if_contains("ports"); ports && ports->is_array()) {
        for (const auto& p : ports->as_array()) {
          if (!p.is_object() || stringField(p.as_object(), "name") != portName) continue;
          if (auto* n = p.as_object().if_contains("port"); n && n->is_int64()) target = n->as_int64();
        }
      }
      if (target == 0) continue;
      auto* eps = so.if_contains("endpoints");
      if (!eps || !eps->is_array()) continue;
      for (const auto& e : eps->as_array()) {
        if (!e.is_object()) continue;
        const auto* cond = objectField(e.as_object(), "conditions");
        if (cond) {
          if (auto* r = cond->if_contains("ready"); r && r->is_bool() && !r->as_bool()) continue;
        }
        auto* addrs = e.as_object().if_contains("addresses");
        if (!addrs || !addrs->is_array() || addrs->as_array().empty()) continue;
        const auto& a = addrs->as_array()[0];
        if (!a.is_string()) continue;
        std::string ep = std::string(a.as_string()) + ":" + std::to_string(target);
        if (seen.insert(ep).second) out.push_back(ep);
      }
    }
    return out;
  };
  in.tlsFiles = [this](const std::string& ns, const std::string& name) {
    std::pair<std::string, std::string> files;
    auto secret = secrets_->lister().get(ns, name);
    if (!secret) return files;
    const auto* data = objectField(secret->as_object(), "data");
    if (!data) return files;
    auto decode = [&](const char* key) -> std::optional<std::string> {
      std::string b64 = stringField(*data, key);
      if (b64.empty()) return std::nullopt;
      return core::base64Decode(b64);
    };
    auto crt = decode("tls.crt"), key = decode("tls.key");
    if (!crt || !key) return files;
    std::string base = o_.stateDir + "/tls/" + ns + "_" + name;
    writeIfChanged(base + ".crt", *crt, 0600);
    writeIfChanged(base + ".key", *key, 0600);
    return std::make_pair(base + ".crt", base + ".key");
  };
  std::string conf = renderNginxConfig(in);
  if (conf != lastConfig_) {
    std::string path = o_.stateDir + "/nginx.conf";
    std::string candidate = o_.stateDir + "/nginx.conf.next";
    writeIfChanged(candidate, conf, 0600);
    std::string out;
    if (runQuiet({o_.nginxBinary, "-t", "-q", "-c", candidate}, &out) != 0) {
      // Keep serving the last good configuration.
      return Status::internal("rendered nginx configuration rejected: " + out);
    }
    fs::rename(candidate, path);
    lastConfig_ = conf;
    if (nginx_ > 0) {
      ::kill(nginx_, SIGHUP);  // graceful reload
      reloads_.fetch_add(1);
    }
  }
  updateStatuses(in.ingresses);
  return {};
}

void IngressController::updateStatuses(const std::vector<json::object>& ingresses) {
  if (o_.statusAddress.empty()) return;
  for (const auto& ing : ingresses) {
    const auto* meta = objectField(ing, "metadata");
    if (!meta) continue;
    const auto* status = objectField(ing, "status");
    const auto* lb = status ? objectField(*status, "loadBalancer") : nullptr;
    auto* list = lb ? lb->if_contains("ingress") : nullptr;
    if (list && list->is_array() && list->as_array().size() == 1 &&
        list->as_array()[0].is_object() &&
        stringField(list->as_array()[0].as_object(), "ip") == o_.statusAddress)
      continue;
    json::object patch{
        {"status",
         json::object{{"loadBalancer",
                       json::object{{"ingress", json::array{json::object{
                                                    {"ip", o_.statusAddress}}}}}}}}};
    client::PatchOptions po;
    po.subresource = "status";
    auto r = client_.patch(kIngresses, stringField(*meta, "namespace"), stringField(*meta, "name"),
                           client::PatchType::kMerge, json::serialize(patch), po);
    if (!r.ok()) std::cerr << "berth: ingress status: " << r.status().message() << "\n";
  }
}

core::Status IngressController::startNginx() {
  std::string conf = o_.stateDir + "/nginx.conf";
  std::vector<std::string> args = {o_.nginxBinary, "-c", conf, "-g", "daemon off;", "-e",
                                   o_.stateDir + "/error.log"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // nginx and its workers in a process group of their own (the master's pid), so stopping
  // takes the workers too even when the master is killed before they exit.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::internal("cannot start nginx: " + std::string(strerror(rc)));
  nginx_ = pid;
  return {};
}

void IngressController::superviseNginx() {
  if (nginx_ <= 0) return;
  int st = 0;
  if (::waitpid(nginx_, &st, WNOHANG) == nginx_) {
    std::cerr << "berth: ingress: nginx exited; restarting\n";
    ::kill(-nginx_, SIGKILL);  // its workers, if any outlived it
    nginx_ = -1;
    (void)startNginx();
  }
}

}  // namespace berth::ingress
