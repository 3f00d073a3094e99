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

void SimNode::start() {
  post([this] { registerNode(); });
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
  if (!podCidr_.empty()) return;
  const json::object* spec = objectField(node, "spec");
  std::string cidr = spec ? stringField(*spec, "podCIDR") : "";
  auto parsed = core::parseIpv4Cidr(cidr);
  if (cidr.empty() || !parsed.ok()) return;
  podCidr_ = cidr;
  ips_ = PodIpAllocator(*parsed);
  for (auto& [uid, rec] : pods_)
    if (!rec.ip.empty()) ips_.reserve(rec.ip);
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
  if (lease_.empty() || (!res.ok() && (res.status().isConflict() || res.status().isNotFound()))) {
    // First renewal, or someone else wrote it: read it again (create it if missing).
    res = ctx_.client.get(kLeases, kLeaseNamespace, shape_.name);
    if (res.ok()) {
      json::object lease = std::move(res).value().as_object();
      json::object wanted = makeLease(shape_.name, uid_, now);
      lease["spec"] = wanted["spec"];
      if (!lease["metadata"].as_object().contains("ownerReferences"))
        lease["metadata"].as_object()["ownerReferences"] = wanted["metadata"].at("ownerReferences");
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
  std::string ip = hostNetwork ? shape_.internalIp : rec.ip;
  if (ip.empty()) {
    std::string current = st ? stringField(*st, "podIP") : "";
    if (!current.empty() && ips_.configured() && ips_.reserve(current)) {
      ip = current;  // already running before this process started
    } else if (!ips_.configured()) {
      rec.waitingForIp = true;
      if (!cidrCheckScheduled_) {
        cidrCheckScheduled_ = true;
        after(milliseconds(500), &SimNode::checkPodCidr);
      }
      return;
    } else if (auto a = ips_.allocate()) {
      ip = *a;
    } else {
      ++ctx_.errors;  // podCIDR exhausted: the pod stays Pending, as with host-local IPAM
      return;
    }
    if (!hostNetwork) rec.ip = ip;
  }
  rec.waitingForIp = false;
  if (podShowsRunning(pod, ip)) return;
  json::object patch = runningPodStatusPatch(pod, ip, shape_.internalIp, core::nowRfc3339());
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
  if (!it->second.ip.empty()) ips_.release(it->second.ip);
  pods_.erase(it);
}

void SimNode::checkPodCidr() {
  // The kubelet learns its podCIDR from its Node informer; polling the node while pods wait
  // for it costs less than a second watch per node.
  cidrCheckScheduled_ = false;
  if (ips_.configured()) return;
  auto got = ctx_.client.get(kNodes, "", shape_.name);
  if (got.ok() && got->is_object()) learnNode(got->as_object());
  if (!ips_.configured()) {
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
