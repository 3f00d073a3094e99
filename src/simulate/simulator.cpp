#include "simulate/simulator.h"

#include <fstream>
#include <set>

#include "core/ipv4_cidr.h"

namespace berth::simulate {

Simulator::Simulator(SimulatorOptions options) : options_(std::move(options)) {}

Simulator::~Simulator() { stop(); }

std::string Simulator::nodeName(const std::string& prefix, int i) {
  return prefix + std::to_string(i);
}

std::string Simulator::nodeIp(const std::string& prefix, int i) {
  uint32_t h = 2166136261u;
  for (unsigned char c : prefix) h = (h ^ c) * 16777619u;
  // 2^20 addresses; blocks of 65,536 per prefix; .0 and .255 skipped for readability.
  uint32_t offset = ((h % 16u) << 16) + static_cast<uint32_t>(i) + 1;
  offset += (offset / 255);
  if ((offset & 255) == 0) ++offset;
  return core::formatIpv4((10u << 24) + (128u << 16) + (offset & 0xFFFFF));
}

core::Status Simulator::start() {
  client::RestConfig rest = options_.rest;
  // One client carries every node's writes: its rate limit is the sum of what that many
  // kubelets may send (client-go's default 50 QPS each for kubelets), its pool the workers.
  rest.qps = 50.0 * options_.nodes;
  rest.burst = 100 * options_.nodes;
  rest.maxIdleConnections = options_.workers + 2;
  if (rest.userAgent == "berth-client") rest.userAgent = "berth-simulate/v0.1 (kubelet)";
  auto c = client::RestClient::create(rest);
  if (!c.ok()) return c.status();
  client_ = std::move(c).value();
  mux_ = std::make_unique<WatchMux>();
  if (auto st = mux_->start(); !st.ok()) return st;
  pool_ = std::make_unique<TaskPool>(options_.workers);
  ctx_ = std::unique_ptr<SimContext>(new SimContext{*client_, *pool_, *mux_, options_.timing});
  for (int i = 0; i < options_.nodes; ++i) {
    NodeShape shape = options_.shape;
    shape.name = nodeName(options_.namePrefix, i);
    shape.internalIp = nodeIp(options_.namePrefix, i);
    nodes_.push_back(std::make_unique<SimNode>(*ctx_, std::move(shape)));
  }
  if (!options_.pauseHeartbeatFile.empty()) pollPauseFile();
  for (auto& n : nodes_) n->start();
  return {};
}

void Simulator::pollPauseFile() {
  std::set<std::string> paused;
  std::ifstream in(options_.pauseHeartbeatFile);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) paused.insert(line);
  }
  for (auto& n : nodes_) n->setPaused(paused.count(n->name()) > 0);
  pool_->postAfter(std::chrono::seconds(1), [this] { pollPauseFile(); });
}

void Simulator::stop() {
  if (stopped_.exchange(true)) return;
  // Watches first (no more events), then the workers (in-flight calls finish, timers drop).
  if (mux_) mux_->stop();
  if (pool_) pool_->stop();
  nodes_.clear();
}

SimulatorStats Simulator::stats() const {
  SimulatorStats s;
  s.nodes = options_.nodes;
  if (!ctx_) return s;
  s.registered = ctx_->registered;
  s.watches = mux_ ? static_cast<long long>(mux_->size()) : 0;
  s.leaseRenewals = ctx_->leaseRenewals;
  s.statusPosts = ctx_->statusPosts;
  s.podsStarted = ctx_->podsStarted;
  s.podsDeleted = ctx_->podsDeleted;
  s.errors = ctx_->errors;
  return s;
}

}  // namespace berth::simulate
