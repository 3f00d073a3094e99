#include <boost/json.hpp>

#include <ctime>

#include "core/json_access.h"
#include "dns/zone.h"

namespace berth::dns {

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
constexpr const char* kByService = "service";

// "<namespace>/<service>" of a Service, or of the Service a slice's label names ("" if none).
std::string serviceKey(const boost::json::value& obj, bool isSlice) {
  if (!obj.is_object()) return "";
  const auto* meta = core::objectField(obj.as_object(), "metadata");
  if (!meta) return "";
  std::string name = core::stringField(*meta, "name");
  if (isSlice) {
    const auto* labels = core::objectField(*meta, "labels");
    name = labels ? core::stringField(*labels, "kubernetes.io/service-name") : "";
  }
  return name.empty() ? "" : core::stringField(*meta, "namespace") + "/" + name;
}
}  // namespace

ClusterZone::ClusterZone(client::RestClient& rest, ZoneOptions options)
    : o_(std::move(options)),
      services_(rest, kServices),
      slices_(rest, kEndpointSlices),
      writer_(o_) {
  current_.store(ZoneData::build(o_, {}, {}, 0));
  (void)slices_.addIndexers({{kByService, [](const boost::json::value& slice) {
                                std::string key = serviceKey(slice, true);
                                return key.empty() ? std::vector<std::string>{}
                                                   : std::vector<std::string>{key};
                              }}});
  auto handler = [this](bool isSlice) {
    return client::EventHandler{
        [this, isSlice](const client::ObjectPtr& o) { markDirty(o, isSlice); },
        [this, isSlice](const client::ObjectPtr& old, const client::ObjectPtr& o) {
          markDirty(old, isSlice);  // a slice relabelled leaves its old Service
          markDirty(o, isSlice);
        },
        [this, isSlice](const client::DeletedObject& d) { markDirty(d.object, isSlice); }};
  };
  services_.addEventHandler(handler(false));
  slices_.addEventHandler(handler(true));
}

ClusterZone::~ClusterZone() { stop(); }

void ClusterZone::markDirty(const client::ObjectPtr& obj, bool isSlice) {
  if (!obj) return;
  std::string key = serviceKey(*obj, isSlice);
  if (key.empty()) return;
  {
    std::lock_guard lock(mu_);
    dirty_.insert(std::move(key));
  }
  cv_.notify_one();
}

core::Status ClusterZone::start(std::chrono::milliseconds syncTimeout) {
  services_.start();
  slices_.start();
  if (!client::waitForCacheSync({&services_, &slices_}, syncTimeout))
    return core::Status::unavailable("DNS: the Service and EndpointSlice informers did not sync");
  // The informers' add notifications may still be on their way: mark everything the synced
  // stores hold, so the first zone has every Service before the server answers.
  for (const auto& s : services_.indexer().list()) markDirty(s, false);
  for (const auto& s : slices_.indexer().list()) markDirty(s, true);
  rebuild();
  builder_ = std::thread([this] { builderLoop(); });
  return {};
}

void ClusterZone::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  services_.stop();
  slices_.stop();
  if (builder_.joinable()) builder_.join();
}

void ClusterZone::rebuild() {
  std::set<std::string> keys;
  {
    std::lock_guard lock(mu_);
    keys.swap(dirty_);
  }
  for (const auto& key : keys) {
    auto service = services_.indexer().get(key);
    std::vector<const boost::json::object*> slices;
    auto owned = slices_.indexer().byIndex(kByService, key);
    std::vector<client::ObjectPtr> hold = owned.ok() ? std::move(*owned) : decltype(hold){};
    for (const auto& s : hold)
      if (s && s->is_object()) slices.push_back(&s->as_object());
    writer_.setService(key, service && service->is_object() ? &service->as_object() : nullptr,
                       slices);
  }
  // The SOA serial is the time of the last change, as CoreDNS's.
  current_.store(writer_.publish(static_cast<uint32_t>(std::time(nullptr))));
  generation_.fetch_add(1);
}

void ClusterZone::builderLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !dirty_.empty() || stopping_; });
    if (stopping_) return;
    lock.unlock();
    rebuild();
    lock.lock();
  }
}

}  // namespace berth::dns
