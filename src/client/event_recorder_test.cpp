// EventRecorder and EventCorrelator against a fake EventSink: the bounded queue, the correlator's
// LRU caches and what a key evicted from them gets afterwards (upstream: a fresh entry).
#include "client/event_recorder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/event_correlator.h"
#include "client/lru_cache.h"

namespace berth::client {
namespace {

namespace json = boost::json;

// Records what the recorder writes. While closed, the first write blocks until open() (so a test
// can fill the recorder's queue behind it).
class FakeSink : public EventSink {
 public:
  explicit FakeSink(bool closed = false) : closed_(closed) {}

  core::Status create(std::string_view, const json::value& event) override {
    waitOpen();
    std::lock_guard lock(mu_);
    created_.push_back(event.as_object());
    return {};
  }
  core::Status patch(std::string_view, std::string_view name, std::string_view body) override {
    waitOpen();
    std::lock_guard lock(mu_);
    patched_.push_back(std::string(name) + " " + std::string(body));
    return {};
  }
  // Waits until a write is blocked on the closed sink.
  void waitBlocked() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  std::vector<json::object> created() {
    std::lock_guard lock(mu_);
    return created_;
  }
  std::vector<std::string> patched() {
    std::lock_guard lock(mu_);
    return patched_;
  }

 private:
  void waitOpen() {
    std::unique_lock lock(mu_);
    blocked_ = closed_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_;
  bool blocked_ = false;
  std::vector<json::object> created_;
  std::vector<std::string> patched_;
};

json::value pod(const std::string& name) {
  return json::value{{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}}}};
}

std::string messageOf(const json::object& event) {
  return std::string(event.at("message").as_string());
}

TEST(LruCacheTest, EvictsTheLeastRecentlyUsed) {
  LruCache<int> cache(2);
  cache.put("a", 1);
  cache.put("b", 2);
  ASSERT_NE(cache.get("a"), nullptr);  // a is now more recent than b
  cache.put("c", 3);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.get("b"), nullptr);
  ASSERT_NE(cache.get("a"), nullptr);
  EXPECT_EQ(*cache.get("a"), 1);
  EXPECT_EQ(*cache.get("c"), 3);
  cache.put("c", 4);  // replacing a key evicts nothing
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(*cache.get("c"), 4);
}

TEST(EventCorrelatorTest, SpamFilterAllowsABurstOf25ThenOnePerFiveMinutes) {
  FakeClock clock;
  EventCorrelator correlator(clock);
  for (int i = 0; i < EventCorrelator::kSpamBurst; ++i) ASSERT_TRUE(correlator.allow("obj")) << i;
  EXPECT_FALSE(correlator.allow("obj"));
  EXPECT_TRUE(correlator.allow("other"));  // one bucket per object
  clock.advance(std::chrono::seconds(301));
  EXPECT_TRUE(correlator.allow("obj"));
  EXPECT_FALSE(correlator.allow("obj"));
}

TEST(EventCorrelatorTest, BothCachesHoldAtMost4096Keys) {
  FakeClock clock;
  EventCorrelator correlator(clock);
  for (int i = 0; i < 5000; ++i) {
    correlator.allow("obj-" + std::to_string(i));
    correlator.observe("event-" + std::to_string(i), {"ns", "e", 1});
  }
  EXPECT_EQ(correlator.spamFilterSize(), 4096u);
  EXPECT_EQ(correlator.observationsSize(), 4096u);
  EXPECT_EQ(correlator.lastObservation("event-0"), nullptr);
  ASSERT_NE(correlator.lastObservation("event-4999"), nullptr);
}

TEST(EventCorrelatorTest, AnEvictedSpamKeyStartsWithAFullBucket) {
  FakeClock clock;  // never advanced: no refill
  EventCorrelator correlator(clock);
  for (int i = 0; i < EventCorrelator::kSpamBurst; ++i) correlator.allow("noisy");
  ASSERT_FALSE(correlator.allow("noisy"));
  for (std::size_t i = 0; i < EventCorrelator::kMaxLruCacheEntries; ++i) {
    correlator.allow("obj-" + std::to_string(i));
  }
  for (int i = 0; i < EventCorrelator::kSpamBurst; ++i) EXPECT_TRUE(correlator.allow("noisy")) << i;
  EXPECT_FALSE(correlator.allow("noisy"));
}

TEST(EventCorrelatorTest, KeysFollowUpstream) {
  EventSource source{"kubelet", "node-1"};
  json::value a = json::value{{"kind", "Pod"}, {"namespace", "ns"}, {"name", "a"}, {"uid", "1"}};
  json::value recreated =
      json::value{{"kind", "Pod"}, {"namespace", "ns"}, {"name", "a"}, {"uid", "2"}};
  // The spam key is the source and the object (its uid included), not the event's reason.
  EXPECT_NE(eventSpamKey(source, a), eventSpamKey(source, recreated));
  EXPECT_NE(eventSpamKey(source, a), eventSpamKey({"kubelet", "node-2"}, a));
  EXPECT_EQ(eventKey(source, a, "Normal", "Pulled", "x"),
            eventKey(source, a, "Normal", "Pulled", "x"));
  EXPECT_NE(eventKey(source, a, "Normal", "Pulled", "x"),
            eventKey(source, a, "Normal", "Pulled", "y"));
  EXPECT_NE(eventKey(source, a, "Normal", "Pulled", "x"),
            eventKey(source, a, "Warning", "Pulled", "x"));
}

TEST(EventRecorderTest, AFullQueueDropsAndCounts) {
  FakeSink sink(/*closed=*/true);
  {
    EventRecorder recorder(sink, "test");
    recorder.record(pod("first"), "Normal", "Started", "taken by the writer");
    sink.waitBlocked();  // the writer holds "first"; the queue is empty
    for (std::size_t i = 0; i < EventRecorder::kMaxQueuedEvents; ++i) {
      recorder.record(pod("p" + std::to_string(i)), "Normal", "Queued", "queued");
    }
    EXPECT_EQ(recorder.dropped(), 0);
    for (int i = 0; i < 3; ++i) recorder.record(pod("late"), "Normal", "Late", "no room");
    EXPECT_EQ(recorder.dropped(), 3);
    sink.open();
    recorder.flush();
    EXPECT_EQ(recorder.created(), 1 + static_cast<long long>(EventRecorder::kMaxQueuedEvents));
    // Room again once written.
    recorder.record(pod("later"), "Normal", "Later", "room again");
    recorder.flush();
    EXPECT_EQ(recorder.dropped(), 3);
  }
  auto created = sink.created();
  ASSERT_EQ(created.size(), EventRecorder::kMaxQueuedEvents + 2);
  for (const auto& ev : created) EXPECT_NE(messageOf(ev), "no room");
}

TEST(EventRecorderTest, StoppingWritesEverythingQueued) {
  FakeSink sink(/*closed=*/true);
  std::thread opener;
  {
    EventRecorder recorder(sink, "test");
    recorder.record(pod("first"), "Normal", "Started", "first");
    sink.waitBlocked();
    for (int i = 0; i < 50; ++i) recorder.record(pod("p" + std::to_string(i)), "Normal", "R", "m");
    // Opened (most likely) while the destructor below already waits.
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      sink.open();
    });
  }  // the destructor waits for the 51 events, not only for the one being written
  opener.join();
  EXPECT_EQ(sink.created().size(), 51u);
}

TEST(EventRecorderTest, RepeatsArePatchedAndTheSpamFilterThrottles) {
  FakeSink sink;
  FakeClock clock;
  EventRecorder recorder(sink, "test", "node-1", clock);
  for (int i = 0; i < 3; ++i) recorder.record(pod("a"), "Warning", "Failed", "same");
  for (int i = 0; i < 30; ++i) recorder.record(pod("a"), "Normal", "N", std::to_string(i));
  recorder.flush();
  // 25 pass the spam filter: 1 create + 2 patches of "same", then 22 distinct messages.
  EXPECT_EQ(recorder.created(), 23);
  EXPECT_EQ(recorder.patched(), 2);
  EXPECT_EQ(recorder.throttled(), 8);
  auto patched = sink.patched();
  ASSERT_EQ(patched.size(), 2u);
  EXPECT_NE(patched[1].find("\"count\":3"), std::string::npos) << patched[1];
}

TEST(EventRecorderTest, ARepeatAfterEvictionCreatesAFreshEvent) {
  FakeSink sink;
  FakeClock clock;
  EventRecorder recorder(sink, "test", "", clock);
  recorder.record(pod("a"), "Warning", "Failed", "again");
  recorder.record(pod("a"), "Warning", "Failed", "again");
  recorder.flush();
  ASSERT_EQ(recorder.patched(), 1);
  for (std::size_t i = 0; i < EventCorrelator::kMaxLruCacheEntries; ++i) {
    recorder.record(pod("o" + std::to_string(i)), "Normal", "Other", "other");
    if (i % 500 == 0) recorder.flush();  // stay under the queue's bound
  }
  recorder.flush();
  ASSERT_EQ(recorder.dropped(), 0);
  recorder.record(pod("a"), "Warning", "Failed", "again");
  recorder.flush();
  EXPECT_EQ(recorder.patched(), 1);  // not a third count on the first Event
  auto created = sink.created();
  ASSERT_EQ(created.size(), 2 + EventCorrelator::kMaxLruCacheEntries);
  const json::object& fresh = created.back();
  EXPECT_EQ(messageOf(fresh), "again");
  EXPECT_EQ(fresh.at("count").to_number<int64_t>(), 1);
  EXPECT_NE(fresh.at("metadata").at("name"), created.front().at("metadata").at("name"));
}

}  // namespace
}  // namespace berth::client
