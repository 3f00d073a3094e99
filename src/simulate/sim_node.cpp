#include "simulate/sim_node.h"

#include <boost/json.hpp>

#include <random>

#include "core/clock.h"
#include "core/json_access.h"

namespace berth::simulate {

namespace json = boost::json;
using core::objectField;
using core::stringField;
using std::chrono::milliseconds;

namespace {

const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
const client::Resource kPods{"", "v1", "pods", true};
constexpr const char* kLeaseNamespace = "kube-node-lease";

milliseconds jitter(milliseconds max) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (max.count() <= 0) return milliseconds(0);
  return milliseconds(std::uniform_int_distribution<long long>(0, max.count())(rng));
}

std::string metaField(const json::object& obj, const char* field) {
  const json::object* meta = objectField(obj, "metadata");
  return meta ? stringField(*meta, field) : std::string();
}

}  // namespace

SimNode::SimNode(SimContext& ctx, NodeShape shape)
    : ctx_(ctx), strand_(ctx.pool), shape_(std::move(shape)) {}

void SimNode::start(TaskPool::Task then) {
  post([this, then = std::move(then)]() mutable {
    afterFirstAttempt_ = std::move(then);
    registerNode();
  });
}

void SimNode::after(milliseconds delay, void (SimNode::*step)()) {
  ctx_.pool.postAfter(delay, [this, step] { post([this, step] { (this->*step)(); }); });
}

void SimNode::setPaused(bool paused) {
  if (paused_.exchange(paused) && !paused) {
    // Back: re-check every pod, since status writes were skipped meanwhile (a pod the node
    // lifecycle controller marked not ready is made ready again, as the status manager does).
    post([this] {
      if (registered_) listPods();
    });
  }
}

void SimNode::registerNode() {
  struct AttemptDone {  // runs afterFirstAttempt_ on every way out, once
    SimNode* self;
    ~AttemptDone() {
      if (auto then = std::move(self->afterFirstAttempt_)) {
        self->afterFirstAttempt_ = nullptr;
        then();
      }
    }
  } attemptDone{this};
  std::string now = core::nowRfc3339();
  auto created = ctx_.client.create(kNodes, "", makeNode(shape_, now));
  json::value node;
  if (created.ok()) {
    node = std::move(created).value();
  } else if (created.status().isAlreadyExists()) {
    // A restarted kubelet takes over its existing Node and refreshes its status.
    auto got = ctx_.client.get(kNodes, "", shape_.name);
    if (!got.ok()) {
      ++ctx_.errors;
      return after(milliseconds(1000) + jitter(milliseconds(1000)), &SimNode::registerNode);
    }
    node = std::move(got).value();
    json::object patch{{"status", makeNode(shape_, now)["status"]}};
    patch["status"].as_object()["conditions"] = nodeConditions(&node.as_object(), now);
    auto patched = ctx_.client.patch(kNodes, "", shape_.name, client::PatchType::kStrategicMerge,
                                     json::serialize(patch), {.subresource = "status"});
    if (patched.ok()) node = std::move(patched).value();
  } else {
    ++ctx_.errors;
    return after(milliseconds(1000) + jitter(milliseconds(1000)), &SimNode::registerNode);
  }
  learnNode(node.as_object());
  registered_ = true;
  lastReport_ = std::chrono::steady_clock::now();
  ++ctx_.registered;
  renewLease();
  listPods();
  after(ctx_.timing.nodeStatusUpdateFrequency + jitter(ctx_.timing.nodeStatusUpdateFrequency),
        &SimNode::updateNodeStatus);
}

void SimNode::learnNode(const json::object& node) {
  if (uid_.empty()) uid_ = metaField(node, "uid");
  if (ipsConfigured()) return;
  const json::object* spec = objectField(node, "spec");
  if (spec == nullptr) return;
  std::vector<std::string> cidrs;
  if (const auto* list = spec->if_contains("podCIDRs"); list && list->is_array())
    for (const auto& c : list->as_array())
      if (c.is_string() && !c.as_string().empty()) cidrs.emplace_back(c.as_string());
  if (cidrs.empty() && !stringField(*spec, "podCIDR").empty())
    cidrs.push_back(stringField(*spec, "podCIDR"));
  std::vector<PodIpAllocator> allocators;
  for (const auto& cidr : cidrs) {
    auto parsed = core::parseIpCidr(cidr);
    if (!parsed.ok()) return;
    allocators.emplace_back(*parsed);
  }
  if (allocators.empty()) return;
  ips_ = std::move(allocators);
  for (auto& [uid, rec] : pods_)
    for (const auto& ip : rec.ips)
      for (auto& a : ips_) a.reserve(ip);
  retryWaitingPods();
}

void SimNode::renewLease() {
  auto next = [this] { after(ctx_.timing.leaseRenewInterval, &SimNode::renewLease); };
  if (paused_) return next();
  std::string now = nowMicroTime();
  core::Result<json::value> res = core::Status::internal("unset");
  if (!lease_.empty()) {
    json::object lease = lease_;
    auto& spec = lease["spec"].as_object();
    spec["renewTime"] = now;
    spec["holderIdentity"] = shape_.name;
    res = ctx_.client.update(kLeases, kLeaseNamespace, lease);
  }
  if (lease_.empty()) {
    // First renewal: create it; one left by an earlier run is taken over below.
    res = ctx_.client.create(kLeases, kLeaseNamespace, makeLease(shape_.name, uid_, now));
  }
  if (!res.ok() &&
      (res.status().isConflict() || res.status().isNotFound() || res.status().isAlreadyExists())) {
    // Someone else wrote it, or it exists from before: read it again (create it if missing).
    res = ctx_.client.get(kLeases, kLeaseNamespace, shape_.name);
    if (res.ok()) {
      json::object lease = std::move(res).value().as_object();
      json::object wanted = makeLease(shape_.name, uid_, now);
      lease["spec"] = wanted["spec"];
      const json::value* owners = wanted["metadata"].as_object().if_contains("ownerReferences");
      if (owners && !lease["metadata"].as_object().contains("ownerReferences"))
        lease["metadata"].as_object()["ownerReferences"] = *owners;
      res = ctx_.client.update(kLeases, kLeaseNamespace, lease);
    } else if (res.status().isNotFound()) {
      res = ctx_.client.create(kLeases, kLeaseNamespace, makeLease(shape_.name, uid_, now));
    }
  }
  if (res.ok()) {
    lease_ = std::move(res).value().as_object();
    ++ctx_.leaseRenewals;
  } else {
    lease_.clear();
    ++ctx_.errors;
  }
  next();
}

void SimNode::updateNodeStatus() {
  auto next = [this] { after(ctx_.timing.nodeStatusUpdateFrequency, &SimNode::updateNodeStatus); };
  if (paused_) return next();
  // As kubelet's tryUpdateNodeStatus: read the node from the server's cache, patch the status
  // when it changed or the report period passed.
  auto got = ctx_.client.request(
      "GET", client::RestClient::path(kNodes, "", shape_.name) + "?resourceVersion=0");
  if (!got.ok() || !got->is_object()) {
    ++ctx_.errors;
    return next();
  }
  const json::object& node = got->as_object();
  learnNode(node);
  auto now = std::chrono::steady_clock::now();
  if (conditionsDiffer(node) || now - lastReport_ >= ctx_.timing.nodeStatusReportFrequency) {
    json::object patch{{"status", {{"conditions", nodeConditions(&node, core::nowRfc3339())}}}};
    auto res = ctx_.client.patch(kNodes, "", shape_.name, client::PatchType::kStrategicMerge,
                                 json::serialize(patch), {.subresource = "status"});
    if (res.ok()) {
      lastReport_ = now;
      ++ctx_.statusPosts;
    } else {
      ++ctx_.errors;
    }
  }
  next();
}

void SimNode::listPods() {
  client::ListOptions opts;
  opts.fieldSelector = "spec.nodeName=" + shape_.name;
  auto list = ctx_.client.list(kPods, "", opts);
  if (!list.ok() || !list->is_object()) {
    ++ctx_.errors;
    return after(milliseconds(1000) + jitter(milliseconds(1000)), &SimNode::listPods);
  }
  const json::object& l = list->as_object();
  std::unordered_map<std::string, bool> seen;
  if (const auto* items = l.if_contains("items"); items && items->is_array()) {
    for (const auto& item : items->as_array()) {
      if (!item.is_object()) continue;
      seen[metaField(item.as_object(), "uid")] = true;
      syncPod(item.as_object());
    }
  }
  std::vector<std::string> gone;
  for (const auto& [uid, rec] : pods_)
    if (!seen.count(uid)) gone.push_back(uid);
  for (const auto& uid : gone) forgetPod(uid);
  const json::object* meta = objectField(l, "metadata");
  podsResourceVersion_ = meta ? stringField(*meta, "resourceVersion") : "";
  if (!watchActive_) {
    watchActive_ = true;
    watchPods();
  }
}

void SimNode::watchPods() {
  client::ListOptions opts;
  opts.fieldSelector = "spec.nodeName=" + shape_.name;
  opts.resourceVersion = podsResourceVersion_;
  opts.allowWatchBookmarks = true;
  // Reflectors pick a random timeout in [5, 10) minutes so watches do not all end together.
  opts.timeoutSeconds = 300 + static_cast<int>(jitter(milliseconds(300)).count());
  auto watch = ctx_.client.watch(kPods, "", opts);
  if (!watch.ok()) {
    ++ctx_.errors;
    if (watch.status().isExpired()) {
      watchActive_ = false;
      podsResourceVersion_.clear();
      return listPods();
    }
    int backoff = std::min(30000, 500 << std::min(watchFailures_++, 6));
    return after(milliseconds(backoff) + jitter(milliseconds(backoff)), &SimNode::watchPods);
  }
  watchFailures_ = 0;
  WatchMux::Handlers h;
  h.onEvent = [this](client::WatchEvent&& ev) {
    auto shared = std::make_shared<client::WatchEvent>(std::move(ev));
    post([this, shared] { onPodEvent(*shared); });
  };
  h.onEnd = [this](const core::Status& st) {
    post([this, st] {
      if (!st.ok()) ++ctx_.errors;
      if (podsResourceVersion_.empty()) {
        watchActive_ = false;
        return listPods();
      }
      watchPods();
    });
  };
  ctx_.mux.add(std::move(watch).value(), std::move(h));
}

void SimNode::onPodEvent(client::WatchEvent& ev) {
  if (!ev.object.is_object()) return;
  const json::object& obj = ev.object.as_object();
  if (ev.type == "ERROR") {
    // 410 Expired/Gone: the resourceVersion is compacted; re-list (the stream ends next).
    podsResourceVersion_.clear();
    return;
  }
  std::string rv = metaField(obj, "resourceVersion");
  if (!rv.empty()) podsResourceVersion_ = rv;
  if (ev.type == "BOOKMARK") return;
  if (ev.type == "DELETED") return forgetPod(metaField(obj, "uid"));
  syncPod(obj);
}

void SimNode::syncPod(const json::object& pod) {
  std::string uid = metaField(pod, "uid");
  if (uid.empty()) return;
  PodRecord& rec = pods_[uid];
  if (rec.name.empty()) {
    rec.ns = metaField(pod, "namespace");
    rec.name = metaField(pod, "name");
  }
  if (!metaField(pod, "deletionTimestamp").empty()) {
    if (rec.deleting) return;
    // The containers "exit" at once; the pod object goes, guarded by its UID.
    json::value opts = json::object{{"kind", "DeleteOptions"},
                                    {"apiVersion", "v1"},
                                    {"gracePeriodSeconds", 0},
                                    {"preconditions", {{"uid", uid}}}};
    auto res = ctx_.client.remove(kPods, rec.ns, rec.name, &opts);
    if (res.ok() || res.status().isNotFound() || res.status().isConflict()) {
      rec.deleting = true;
      ++ctx_.podsDeleted;
    } else {
      ++ctx_.errors;
    }
    return;
  }
  const json::object* st = objectField(pod, "status");
  std::string phase = st ? stringField(*st, "phase") : "";
  if (phase == "Succeeded" || phase == "Failed" || paused_) return;
  const json::object* spec = objectField(pod, "spec");
  bool hostNetwork = false;
  if (spec)
    if (const auto* hn = spec->if_contains("hostNetwork"); hn && hn->is_bool())
      hostNetwork = hn->as_bool();
  std::vector<std::string> ips = hostNetwork ? std::vector{shape_.internalIp} : rec.ips;
  if (ips.empty()) {
    std::vector<std::string> current;
    if (const auto* list = st ? st->if_contains("podIPs") : nullptr; list && list->is_array())
      for (const auto& p : list->as_array())
        if (p.is_object() && !stringField(p.as_object(), "ip").empty())
          current.push_back(stringField(p.as_object(), "ip"));
    if (!current.empty() && ipsConfigured() && reserveIps(current)) {
      ips = current;  // already running before this process started
    } else if (!ipsConfigured()) {
      rec.waitingForIp = true;
      if (!cidrCheckScheduled_) {
        cidrCheckScheduled_ = true;
        after(milliseconds(500), &SimNode::checkPodCidr);
      }
      return;
    } else if (auto a = allocateIps()) {
      ips = std::move(*a);
    } else {
      ++ctx_.errors;  // podCIDR exhausted: the pod stays Pending, as with host-local IPAM
      return;
    }
    if (!hostNetwork) rec.ips = ips;
  }
  rec.waitingForIp = false;
  if (podShowsRunning(pod, ips)) return;
  json::object patch = runningPodStatusPatch(pod, ips, shape_.internalIp, core::nowRfc3339());
  auto res = ctx_.client.patch(kPods, rec.ns, rec.name, client::PatchType::kStrategicMerge,
                               json::serialize(patch), {.subresource = "status"});
  if (res.ok()) {
    ++ctx_.podsStarted;
  } else if (!res.status().isNotFound() && !res.status().isConflict()) {
    ++ctx_.errors;
  }
}

void SimNode::forgetPod(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  releaseIps(it->second.ips);
  pods_.erase(it);
}

bool SimNode::reserveIps(const std::vector<std::string>& ips) {
  if (ips.size() != ips_.size()) return false;  // e.g. the node became dual-stack since
  std::vector<std::string> taken;
  for (const auto& ip : ips) {
    bool ok = false;
    for (auto& a : ips_) ok = ok || a.reserve(ip);
    if (!ok) {
      releaseIps(taken);
      return false;
    }
    taken.push_back(ip);
  }
  return true;
}

std::optional<std::vector<std::string>> SimNode::allocateIps() {
  std::vector<std::string> out;
  for (auto& a : ips_) {
    auto ip = a.allocate();
    if (!ip) {
      releaseIps(out);
      return std::nullopt;
    }
    out.push_back(std::move(*ip));
  }
  return out;
}

void SimNode::releaseIps(const std::vector<std::string>& ips) {
  for (const auto& ip : ips)
    for (auto& a : ips_) a.release(ip);  // foreign addresses are ignored
}

void SimNode::checkPodCidr() {
  // The kubelet learns its podCIDR from its Node informer; polling the node while pods wait
  // for it costs less than a second watch per node.
  cidrCheckScheduled_ = false;
  if (ipsConfigured()) return;
  auto got = ctx_.client.get(kNodes, "", shape_.name);
  if (got.ok() && got->is_object()) learnNode(got->as_object());
  if (!ipsConfigured()) {
    cidrCheckScheduled_ = true;
    after(milliseconds(1000), &SimNode::checkPodCidr);
  }
}

void SimNode::retryWaitingPods() {
  for (const auto& [uid, rec] : pods_) {
    if (rec.waitingForIp) return listPods();
  }
}

}  // namespace berth::simulate
