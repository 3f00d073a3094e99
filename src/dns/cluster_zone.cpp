#include <ctime>

#include "dns/zone.h"

namespace berth::dns {

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
}  // namespace

ClusterZone::ClusterZone(client::RestClient& rest, ZoneOptions options)
    : o_(std::move(options)), services_(rest, kServices), slices_(rest, kEndpointSlices) {
  current_.store(ZoneData::build(o_, {}, {}, 0));
  auto dirty = [this] {
    {
      std::lock_guard lock(mu_);
      dirty_ = true;
    }
    cv_.notify_one();
  };
  client::EventHandler h{[dirty](const client::ObjectPtr&) { dirty(); },
                         [dirty](const client::ObjectPtr&, const client::ObjectPtr&) { dirty(); },
                         [dirty](const client::DeletedObject&) { dirty(); }};
  services_.addEventHandler(h);
  slices_.addEventHandler(h);
}

ClusterZone::~ClusterZone() { stop(); }

core::Status ClusterZone::start(std::chrono::milliseconds syncTimeout) {
  services_.start();
  slices_.start();
  if (!client::waitForCacheSync({&services_, &slices_}, syncTimeout))
    return core::Status::unavailable("DNS: the Service and EndpointSlice informers did not sync");
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
  // The SOA serial is the build time, as CoreDNS uses the time of the last change.
  auto zone = ZoneData::build(o_, services_.indexer().list(), slices_.indexer().list(),
                              static_cast<uint32_t>(std::time(nullptr)));
  current_.store(std::move(zone));
  generation_.fetch_add(1);
}

void ClusterZone::builderLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return dirty_ || stopping_; });
    if (stopping_) return;
    dirty_ = false;
    lock.unlock();
    rebuild();
    lock.lock();
  }
}

}  // namespace berth::dns
