#pragma once
// For controller integration tests only (included by *_test.cpp): a stand-in kubelet for a
// cluster without nodes. A thread marks every pod that is not being deleted Running and Ready
// through the status subresource, as a kubelet reports it, so controllers see pods become
// available. Pods whose first container's image contains "never-ready" stay Pending.
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "client/rest_client.h"
#include "core/clock.h"

namespace berth::controllers::testing {

class FakeKubelet {
 public:
  explicit FakeKubelet(client::RestClient& client) : client_(client) {
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeKubelet() {
    stop_ = true;
    thread_.join();
  }
  long long marked() const { return marked_.load(); }

 private:
  void loop() {
    namespace json = boost::json;
    const client::Resource pods{"", "v1", "pods", true};
    while (!stop_) {
      auto list = client_.list(pods, "");
      if (list.ok()) {
        for (const auto& p : list->at("items").as_array()) {
          const auto& meta = p.at("metadata").as_object();
          if (meta.contains("deletionTimestamp")) continue;
          std::string image(p.at("spec").at("containers").at(0).at("image").as_string());
          if (image.find("never-ready") != std::string::npos) continue;
          bool ready = false;
          if (auto* st = p.as_object().if_contains("status"))
            if (auto* conds = st->as_object().if_contains("conditions"))
              for (const auto& c : conds->as_array())
                ready |= c.at("type") == "Ready" && c.at("status") == "True";
          if (ready) continue;
          std::string now = core::nowRfc3339();
          json::object status{
              {"phase", "Running"},
              {"conditions",
               json::array{{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", now}}}}};
          auto r = client_.patch(
              pods, std::string(meta.at("namespace").as_string()),
              std::string(meta.at("name").as_string()), client::PatchType::kMerge,
              json::serialize(json::object{{"status", status}}), {.subresource = "status"});
          if (r.ok()) ++marked_;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  client::RestClient& client_;
  std::atomic<bool> stop_{false};
  std::atomic<long long> marked_{0};
  std::thread thread_;
};

}  // namespace berth::controllers::testing
