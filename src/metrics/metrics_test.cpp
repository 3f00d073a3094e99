// The metrics library: values, labels and the text format, checked by parsing the output back.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "metrics/parse.h"
#include "metrics/process.h"

namespace berth::metrics {
namespace {

ParsedText parsed(const Registry& registry) {
  std::string error;
  std::string text = registry.encode();
  auto result = parseText(text, &error);
  EXPECT_TRUE(result) << error << "\n" << text;
  return result ? *result : ParsedText{};
}

TEST(MetricsTest, CountersAndGaugesWithLabelsRoundTrip) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests.", {"verb", "code"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"POST", "201"}).inc();
  registry.gauge("test_inflight", "In flight.").get().set(7);
  auto text = parsed(registry);
  ASSERT_NE(text.family("test_requests_total"), nullptr);
  EXPECT_EQ(text.family("test_requests_total")->type, "counter");
  EXPECT_EQ(text.family("test_requests_total")->help, "Requests.");
  EXPECT_EQ(text.value("test_requests_total", {{"verb", "GET"}, {"code", "200"}}), 3);
  EXPECT_EQ(text.value("test_requests_total", {{"verb", "POST"}}), 1);
  EXPECT_EQ(text.value("test_inflight"), 7);
  EXPECT_EQ(text.family("test_inflight")->type, "gauge");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.counter("test_escaped_total", "Help with \\ and\nnewline.", {"path"})
      .with({"a\"quoted\" \\ back\nslash"})
      .inc();
  std::string encoded = registry.encode();
  EXPECT_NE(encoded.find("# HELP test_escaped_total Help with \\\\ and\\nnewline.\n"),
            std::string::npos)
      << encoded;
  auto text = parsed(registry);
  ASSERT_NE(text.family("test_escaped_total"), nullptr);
  EXPECT_EQ(text.family("test_escaped_total")->samples.at(0).labels.at("path"),
            "a\"quoted\" \\ back\nslash");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  Registry registry;
  auto& h =
      registry.histogram("test_duration_seconds", "Latency.", {"verb"}, requestDurationBuckets());
  for (double v : {0.001, 0.005, 0.03, 0.7, 100.0}) h.with({"GET"}).observe(v);
  std::string encoded = registry.encode();
  EXPECT_NE(encoded.find("test_duration_seconds_bucket{verb=\"GET\",le=\"0.005\"} 2\n"),
            std::string::npos)
      << encoded;
  EXPECT_NE(encoded.find("test_duration_seconds_bucket{verb=\"GET\",le=\"60\"} 4\n"),
            std::string::npos);
  EXPECT_NE(encoded.find("test_duration_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 5\n"),
            std::string::npos);
  auto text = parsed(registry);  // the parser checks cumulative buckets and +Inf == _count
  EXPECT_EQ(text.value("test_duration_seconds_count", {{"verb", "GET"}}), 5);
  EXPECT_NEAR(*text.value("test_duration_seconds_sum", {{"verb", "GET"}}), 100.736, 1e-9);
  EXPECT_EQ(text.value("test_duration_seconds_bucket", {{"verb", "GET"}, {"le", "0.05"}}), 3);
  EXPECT_EQ(text.family("test_duration_seconds")->samples.size(), 23u + 1 + 2);
}

TEST(MetricsTest, ValuesAreFormattedAsGoDoes) {
  EXPECT_EQ(formatValue(5), "5");
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(0.005), "0.005");
  EXPECT_EQ(formatValue(123456), "123456");
  EXPECT_EQ(formatValue(1e6), "1e+06");
  EXPECT_EQ(formatValue(1.5e6), "1.5e+06");
  EXPECT_EQ(formatValue(1.7e9 + 0.25), "1.70000000025e+09");
  EXPECT_EQ(formatValue(0.0001), "0.0001");
  EXPECT_EQ(formatValue(0.00001), "1e-05");
  EXPECT_EQ(formatValue(-2.5), "-2.5");
  EXPECT_EQ(formatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(formatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(formatValue(NAN), "NaN");
}

TEST(MetricsTest, FamiliesSortedAndEmptyOnesLeftOut) {
  Registry registry;
  registry.counter("zz_total", "Z.").get().inc();
  registry.counter("aa_unused_total", "Never incremented, no children.", {"x"});
  registry.gauge("mm_gauge", "M.").get().set(1);
  auto text = parsed(registry);
  ASSERT_EQ(text.families.size(), 2u);
  EXPECT_EQ(text.families[0].name, "mm_gauge");
  EXPECT_EQ(text.families[1].name, "zz_total");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  auto& family = registry.counter("test_concurrent_total", "C.", {"worker_group"});
  auto& h = registry.histogram("test_concurrent_seconds", "H.", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        family.with({t % 2 ? "odd" : "even"}).inc();
        h.get().observe(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto text = parsed(registry);
  EXPECT_EQ(text.value("test_concurrent_total", {{"worker_group", "odd"}}), 40000);
  EXPECT_EQ(text.value("test_concurrent_total", {{"worker_group", "even"}}), 40000);
  EXPECT_EQ(text.value("test_concurrent_seconds_count"), 80000);
  EXPECT_EQ(text.value("test_concurrent_seconds_sum"), 80000);
}

TEST(MetricsTest, ComputedSamplesAreEvaluatedAtEachScrape) {
  Registry registry;
  double objects = 3;
  registry.computed("test_objects", "Objects.", Type::kGauge, {"resource"}, [&] {
    return std::vector<Sample>{{{"pods"}, objects}, {{"deployments.apps"}, 1}};
  });
  EXPECT_EQ(parsed(registry).value("test_objects", {{"resource", "pods"}}), 3);
  objects = 5;
  auto text = parsed(registry);
  EXPECT_EQ(text.value("test_objects", {{"resource", "pods"}}), 5);
  // Sorted by label values, as client_golang does.
  EXPECT_EQ(text.family("test_objects")->samples.at(0).labels.at("resource"), "deployments.apps");
}

TEST(MetricsTest, ProcessMetricsArePlausible) {
  Registry registry;
  registerProcessMetrics(registry);
  // Burn a little CPU so the counter is above zero.
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
  auto text = parsed(registry);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(*text.value("process_cpu_seconds_total"), 0);
  EXPECT_EQ(text.family("process_cpu_seconds_total")->type, "counter");
  EXPECT_GT(*text.value("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(*text.value("process_virtual_memory_bytes"),
            *text.value("process_resident_memory_bytes"));
  EXPECT_GE(*text.value("process_open_fds"), 3);  // at least stdin, stdout, stderr
  EXPECT_GE(*text.value("process_max_fds"), *text.value("process_open_fds"));
  double start = *text.value("process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);  // this test process started within the hour
}

TEST(MetricsParseTest, RejectsWhatPrometheusWould) {
  std::string error;
  EXPECT_FALSE(parseText("x 1\n", &error)) << "sample without a TYPE";
  EXPECT_FALSE(parseText("# TYPE x counter\nx{a=\"b} 1\n", &error));
  EXPECT_FALSE(parseText("# TYPE x counter\nx{a=\"\\q\"} 1\n", &error));
  EXPECT_FALSE(parseText("# TYPE x counter\nx one\n", &error));
  EXPECT_FALSE(parseText("# TYPE x counter\nx 1", &error)) << "no final newline";
  EXPECT_FALSE(parseText("# TYPE x counter\nx 1\n# TYPE x counter\n", &error));
  EXPECT_FALSE(
      parseText("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                "h_sum 1\nh_count 1\n",
                &error))
      << "buckets not cumulative";
  EXPECT_FALSE(
      parseText("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", &error))
      << "+Inf differs from count";
  EXPECT_TRUE(parseText("# HELP x X.\n# TYPE x gauge\nx{a=\"1\",b=\"2\"} -1.5e+06\n", &error))
      << error;
}

}  // namespace
}  // namespace berth::metrics
