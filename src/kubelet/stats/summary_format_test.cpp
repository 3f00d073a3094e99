#include "kubelet/stats/summary_format.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::kubelet::stats {
namespace {

namespace json = boost::json;

constexpr int64_t kT = 1764428645123456789;  // 2025-11-29T15:04:05Z

Summary example() {
  Summary s;
  s.node.nodeName = "n1";
  s.node.startNanos = kT - 3600000000000;
  s.node.usage.sample = {kT, 2500000000, MemorySample{3000, 2000, 1000, 5, 1, 7000}};
  s.node.usage.usageNanoCores = 750000000;
  s.node.fs = FsStats{kT, 100, 40, 60, 10, 4, 6};
  s.node.maxPid = 32768;
  s.node.curProc = 200;
  PodStats p{"web", "default", "uid-1", kT, {}, {}};
  p.usage.sample = {kT, 1500000000, MemorySample{60 << 20, 50 << 20, 40 << 20, 9, 0, {}}};
  p.usage.usageNanoCores = 600000000;
  ContainerStats c{"app", kT, {}};
  c.usage.sample = {kT, 1500000000, MemorySample{55 << 20, 45 << 20, 40 << 20, 9, 0, {}}};
  p.containers.push_back(c);
  s.pods.push_back(p);
  return s;
}

TEST(SummaryJson, NetworkVolumesAndEphemeralStorage) {
  Summary s = example();
  auto& p = s.pods[0];
  p.network = NetworkStats{kT, {{"eth0", 1000, 1, 2000, 2}, {"net1", 5, 0, 6, 0}}};
  p.volumes.push_back({"scratch", "", "", FsStats{kT, 100, 40, 7, 10, 4, 3}});
  p.volumes.push_back({"claim", "data", "default", FsStats{kT, 100, 40, 9, 10, 4, 2}});
  p.ephemeralStorage = FsStats{kT, 500, 200, 30, 50, 20, 8};
  p.containers[0].rootfs = FsStats{kT, 500, 200, 12, 50, 20, 4};
  p.containers[0].logs = FsStats{kT, 500, 200, 11, 50, 20, 1};
  json::object pod = json::parse(summaryJson(s)).at("pods").at(0).as_object();
  EXPECT_EQ(pod.at("network"), json::parse(R"({"time":"2025-11-29T15:04:05Z","name":"eth0",
      "rxBytes":1000,"rxErrors":1,"txBytes":2000,"txErrors":2,"interfaces":[
      {"name":"eth0","rxBytes":1000,"rxErrors":1,"txBytes":2000,"txErrors":2},
      {"name":"net1","rxBytes":5,"rxErrors":0,"txBytes":6,"txErrors":0}]})"));
  EXPECT_EQ(pod.at("volume"), json::parse(R"([
      {"time":"2025-11-29T15:04:05Z","availableBytes":40,"capacityBytes":100,"usedBytes":7,
       "inodesFree":4,"inodes":10,"inodesUsed":3,"name":"scratch"},
      {"time":"2025-11-29T15:04:05Z","availableBytes":40,"capacityBytes":100,"usedBytes":9,
       "inodesFree":4,"inodes":10,"inodesUsed":2,"name":"claim",
       "pvcRef":{"name":"data","namespace":"default"}}])"));
  EXPECT_EQ(pod.at("ephemeral-storage").at("usedBytes").to_number<int64_t>(), 30);
  const auto& c = pod.at("containers").at(0).as_object();
  EXPECT_EQ(c.at("rootfs").at("usedBytes").to_number<int64_t>(), 12);
  EXPECT_EQ(c.at("logs").at("usedBytes").to_number<int64_t>(), 11);
  // Without them (a pod with no running container, no volumes) the keys are left out.
  json::object bare = json::parse(summaryJson(example())).at("pods").at(0).as_object();
  for (const char* key : {"network", "volume", "ephemeral-storage"})
    EXPECT_FALSE(bare.contains(key)) << key;
}

TEST(SummaryJson, UpstreamShape) {
  json::object v = json::parse(summaryJson(example())).as_object();
  const auto& node = v.at("node").as_object();
  EXPECT_EQ(node.at("nodeName").as_string(), "n1");
  EXPECT_EQ(node.at("startTime").as_string(), "2025-11-29T14:04:05Z");
  const auto& cpu = node.at("cpu").as_object();
  EXPECT_EQ(cpu.at("time").as_string(), "2025-11-29T15:04:05Z");
  EXPECT_EQ(cpu.at("usageNanoCores").to_number<int64_t>(), 750000000);
  EXPECT_EQ(cpu.at("usageCoreNanoSeconds").to_number<int64_t>(), 2500000000);
  const auto& mem = node.at("memory").as_object();
  EXPECT_EQ(mem.at("availableBytes").to_number<int64_t>(), 7000);
  EXPECT_EQ(mem.at("usageBytes").to_number<int64_t>(), 3000);
  EXPECT_EQ(mem.at("workingSetBytes").to_number<int64_t>(), 2000);
  EXPECT_EQ(mem.at("rssBytes").to_number<int64_t>(), 1000);
  EXPECT_EQ(mem.at("pageFaults").to_number<int64_t>(), 5);
  EXPECT_EQ(mem.at("majorPageFaults").to_number<int64_t>(), 1);
  EXPECT_EQ(node.at("fs").at("capacityBytes").to_number<int64_t>(), 100);
  EXPECT_EQ(node.at("fs").at("inodesUsed").to_number<int64_t>(), 6);
  EXPECT_EQ(node.at("rlimit").at("maxpid").to_number<int64_t>(), 32768);
  EXPECT_EQ(node.at("rlimit").at("curproc").to_number<int64_t>(), 200);

  const auto& pods = v.at("pods").as_array();
  ASSERT_EQ(pods.size(), 1u);
  const auto& pod = pods[0].as_object();
  EXPECT_EQ(pod.at("podRef").at("name").as_string(), "web");
  EXPECT_EQ(pod.at("podRef").at("namespace").as_string(), "default");
  EXPECT_EQ(pod.at("podRef").at("uid").as_string(), "uid-1");
  EXPECT_EQ(pod.at("cpu").at("usageNanoCores").to_number<int64_t>(), 600000000);
  EXPECT_FALSE(pod.at("memory").as_object().contains("availableBytes"));
  const auto& c = pod.at("containers").as_array().at(0).as_object();
  EXPECT_EQ(c.at("name").as_string(), "app");
  EXPECT_EQ(c.at("memory").at("workingSetBytes").to_number<int64_t>(), 45 << 20);
  EXPECT_FALSE(c.at("cpu").as_object().contains("usageNanoCores")) << "no rate yet: field left out";
}

TEST(ResourceMetrics, PrometheusTextWithTimestamps) {
  std::string text = resourceMetricsText(example());
  EXPECT_NE(text.find("# TYPE container_cpu_usage_seconds_total counter\n"
                      "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\","
                      "pod=\"web\"} 1.5 1764428645123\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_memory_working_set_bytes{container=\"app\",namespace=\"default\","
                      "pod=\"web\"} 4.718592e+07 1764428645123\n"),
            std::string::npos);
  // Values as Go's strconv.FormatFloat(v, 'g', -1, 64), as client_golang writes them.
  EXPECT_NE(text.find("node_cpu_usage_seconds_total 2.5 1764428645123\n"), std::string::npos);
  EXPECT_NE(text.find("node_memory_working_set_bytes 2000 1764428645123\n"), std::string::npos);
  EXPECT_NE(text.find("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 1.5 "),
            std::string::npos);
  EXPECT_NE(
      text.find("pod_memory_working_set_bytes{namespace=\"default\",pod=\"web\"} 5.24288e+07 "),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE resource_scrape_error gauge\nresource_scrape_error 0\n"),
            std::string::npos);
  // Families in name order.
  EXPECT_LT(text.find("container_start_time_seconds"), text.find("node_cpu_usage"));
  EXPECT_LT(text.find("node_memory_working_set"), text.find("pod_cpu_usage"));
}

TEST(ResourceMetrics, ScrapeErrorWhenNodeUnreadableAndLabelsEscaped) {
  Summary s = example();
  s.node.usage.sample.memory.reset();
  s.pods[0].name = "we\"b";
  std::string text = resourceMetricsText(s);
  EXPECT_NE(text.find("resource_scrape_error 1\n"), std::string::npos);
  EXPECT_EQ(text.find("node_memory_working_set_bytes 2000"), std::string::npos);
  EXPECT_NE(text.find("pod=\"we\\\"b\""), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet::stats
