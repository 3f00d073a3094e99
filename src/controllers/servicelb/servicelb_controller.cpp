#include "controllers/servicelb/servicelb_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>

#include "controllers/framework/flags.h"
#include "controllers/framework/object_util.h"
#include "core/ipv4_cidr.h"

namespace berth::controllers::servicelb {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kNodes{"", "v1", "nodes", false};

bool isOurLoadBalancer(const json::value& svc) {
  if (stringAt(svc, {"spec", "type"}) != "LoadBalancer") return false;
  const json::value* cls = valueAt(svc, {"spec", "loadBalancerClass"});
  return cls == nullptr || cls->is_null() || stringAt(svc, {"spec", "loadBalancerClass"}) == kLoadBalancerClass;
}

std::vector<std::string> ingressIps(const json::value& svc) {
  std::vector<std::string> out;
  const json::value* ing = valueAt(svc, {"status", "loadBalancer", "ingress"});
  if (ing == nullptr || !ing->is_array()) return out;
  for (const auto& i : ing->get_array())
    if (std::string ip = stringAt(i, {"ip"}); !ip.empty()) out.push_back(ip);
  return out;
}

AddressPool poolOrDie(const std::map<std::string, std::string>& flags) {
  auto pool = AddressPool::parse(stringFlag(flags, "service-lb-pool", ""));
  if (!pool.ok()) {
    std::cerr << "servicelb: " << pool.status().message() << "\n";
    std::abort();
  }
  return std::move(pool).value();
}
}  // namespace

ServiceLbController::ServiceLbController(ControllerContext& ctx)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      services_(ctx.informers.forResource(kServices)),
      nodes_(ctx.informers.forResource(kNodes)),
      recorder_(ctx.client, "service-lb-controller"),
      pool_(poolOrDie(ctx.flags)),
      workers_("servicelb", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  client::EventHandler svc;
  svc.onAdd = [this](const client::ObjectPtr& o) {
    if (stringAt(*o, {"spec", "type"}) == "LoadBalancer") workers_.enqueue(keyOf(*o));
  };
  // An update of any Service: a type change away from LoadBalancer must clear its ingress.
  svc.onUpdate = [this](const client::ObjectPtr& oldSvc, const client::ObjectPtr& o) {
    if (stringAt(*o, {"spec", "type"}) == "LoadBalancer" ||
        stringAt(*oldSvc, {"spec", "type"}) == "LoadBalancer" || !ingressIps(*o).empty())
      workers_.enqueue(keyOf(*o));
  };
  svc.onDelete = [this](const client::DeletedObject& d) { workers_.enqueue(d.key); };
  services_.addEventHandler(std::move(svc));
  if (pool_.empty()) {
    // Node addresses are what every LoadBalancer shows: a node change touches them all.
    client::EventHandler nodes;
    nodes.onAdd = [this](const client::ObjectPtr&) { enqueueLoadBalancers(); };
    nodes.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr&) {
      enqueueLoadBalancers();
    };
    nodes.onDelete = [this](const client::DeletedObject&) { enqueueLoadBalancers(); };
    nodes_.addEventHandler(std::move(nodes));
  }
}

void ServiceLbController::enqueueLoadBalancers() {
  for (const auto& s : services_.lister().list(""))
    if (isOurLoadBalancer(*s)) workers_.enqueue(keyOf(*s));
}

void ServiceLbController::run() {
  if (!pool_.empty()) {
    // Take back what Services show before handing anything out; on a clash the older keeps it.
    auto services = services_.lister().list("");
    std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) {
      return stringAt(*a, {"metadata", "creationTimestamp"}) <
             stringAt(*b, {"metadata", "creationTimestamp"});
    });
    std::lock_guard lock(mu_);
    for (const auto& s : services) {
      if (!isOurLoadBalancer(*s)) continue;
      for (const auto& ip : ingressIps(*s)) {
        if (auto addr = core::parseIpv4(ip); addr.ok() && pool_.take(*addr, keyOf(*s))) break;
      }
    }
  }
  workers_.start(workerCount_);
}

void ServiceLbController::stop() {
  workers_.stop();
  recorder_.flush();
}

std::vector<std::string> ServiceLbController::nodeAddresses() const {
  std::set<std::string> ready, all;
  for (const auto& node : nodes_.lister().list("")) {
    if (isBeingDeleted(*node)) continue;
    std::string internal, external;
    if (const json::value* addrs = valueAt(*node, {"status", "addresses"});
        addrs && addrs->is_array()) {
      for (const auto& a : addrs->get_array()) {
        std::string type = stringAt(a, {"type"});
        if (type == "InternalIP" && internal.empty()) internal = stringAt(a, {"address"});
        if (type == "ExternalIP" && external.empty()) external = stringAt(a, {"address"});
      }
    }
    std::string addr = !external.empty() ? external : internal;
    if (addr.empty()) continue;
    all.insert(addr);
    if (const json::value* conds = valueAt(*node, {"status", "conditions"});
        conds && conds->is_array()) {
      for (const auto& c : conds->get_array())
        if (stringAt(c, {"type"}) == "Ready" && stringAt(c, {"status"}) == "True")
          ready.insert(addr);
    }
  }
  const auto& chosen = ready.empty() ? all : ready;
  return {chosen.begin(), chosen.end()};
}

std::optional<std::vector<std::string>> ServiceLbController::desiredAddresses(
    const std::string& key, const json::value& service) {
  if (pool_.empty()) {
    auto addrs = nodeAddresses();
    if (addrs.empty()) return std::nullopt;
    return addrs;
  }
  std::lock_guard lock(mu_);
  std::string requested = stringAt(service, {"spec", "loadBalancerIP"});
  if (!requested.empty()) {
    auto addr = core::parseIpv4(requested);
    if (addr.ok() && pool_.take(*addr, key)) return std::vector<std::string>{requested};
    std::string why = !addr.ok() || !pool_.contains(*addr)
                          ? "it is not in the service load balancer's pool"
                          : "it is already allocated to " + pool_.holder(*addr);
    json::value involved = service;
    involved.as_object()["kind"] = "Service";
    involved.as_object()["apiVersion"] = "v1";
    recorder_.record(involved, "Warning", "AllocationFailed",
                     "Failed to allocate IP " + requested + " for " + key + ": " + why);
    if (auto held = pool_.heldBy(key)) pool_.release(*held, key);
    return std::nullopt;
  }
  auto addr = pool_.takeAny(key);
  if (!addr) return std::nullopt;
  return std::vector<std::string>{core::formatIpv4(*addr)};
}

Status ServiceLbController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  client::ObjectPtr service = services_.lister().get(ns, name);
  std::optional<std::vector<std::string>> want;
  if (service && isOurLoadBalancer(*service) && !isBeingDeleted(*service)) {
    want = desiredAddresses(key, *service);
  } else {
    bool released = false;
    {
      std::lock_guard lock(mu_);
      if (auto held = pool_.heldBy(key)) {
        pool_.release(*held, key);
        released = true;
      }
    }
    if (released) enqueueLoadBalancers();  // Services waiting for an address get another try
  }
  if (!service) return {};
  // A Service of another class keeps what its controller writes.
  if (stringAt(*service, {"spec", "type"}) == "LoadBalancer" && !isOurLoadBalancer(*service))
    return {};
  std::vector<std::string> have = ingressIps(*service);
  std::vector<std::string> wanted = want.value_or(std::vector<std::string>{});
  if (have == wanted) {
    if (!want && isOurLoadBalancer(*service) && !pool_.empty()) {
      return Status::generic(503, "ServiceUnavailable", "no address for " + key);  // retried
    }
    return {};
  }
  json::object obj = service->as_object();
  json::array ingress;
  for (const auto& ip : wanted) ingress.push_back(json::object{{"ip", ip}, {"ipMode", "VIP"}});
  json::object& status = obj["status"].is_object() ? obj["status"].as_object()
                                                   : obj["status"].emplace_object();
  json::object lb;
  if (!ingress.empty()) lb["ingress"] = std::move(ingress);
  status["loadBalancer"] = std::move(lb);
  auto r = client_.updateStatus(kServices, ns, obj);
  if (!r.ok() && r.status().isNotFound()) return {};
  return r.ok() ? Status() : r.status();  // a conflict is retried against the newer Service
}

}  // namespace berth::controllers::servicelb
