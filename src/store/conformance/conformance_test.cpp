// Store conformance suite: every store::Interface backend must pass every test here.
// Backends: MemoryStore and SqliteStore (a fresh temporary file per test).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/interface.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Backend {
  std::string name;
  // Makes a fresh, empty store in `dir` (a new temporary directory).
  std::function<std::unique_ptr<Interface>(const fs::path& dir)> make;
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

std::string backendName(const testing::TestParamInfo<Backend>& info) { return info.param.name; }

// Collects watch events; waits for a count with a deadline.
class Collector {
 public:
  WatchCallback callback() {
    return [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  std::vector<Event> waitFor(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<Event> snapshot() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

class StoreConformance : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  int64_t mustCreate(const std::string& key, const std::string& value) {
    auto r = store_->create(key, value);
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().message();
    return r.ok() ? *r : 0;
  }
  int64_t mustUpdate(const std::string& key, const std::string& value) {
    auto r = store_->update(key, value, 0);
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().message();
    return r.ok() ? *r : 0;
  }
  std::vector<std::string> keysOf(const ListResult& r) {
    std::vector<std::string> keys;
    for (const auto& kv : r.items) keys.push_back(kv.key);
    return keys;
  }

  fs::path dir_;
  std::unique_ptr<Interface> store_;
};

TEST_P(StoreConformance, CreateThenGet) {
  int64_t rev = mustCreate("/pods/default/a", "{\"x\":1}");
  EXPECT_GT(rev, 0);
  auto kv = store_->get("/pods/default/a");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->key, "/pods/default/a");
  EXPECT_EQ(kv->value, "{\"x\":1}");
  EXPECT_EQ(kv->createRevision, rev);
  EXPECT_EQ(kv->modRevision, rev);
  EXPECT_EQ(store_->currentRevision(), rev);
}

TEST_P(StoreConformance, GetMissingIsNotFound) {
  auto kv = store_->get("/nope");
  ASSERT_FALSE(kv.ok());
  EXPECT_TRUE(kv.status().isNotFound());
  EXPECT_EQ(kv.status().code(), 404);
}

TEST_P(StoreConformance, CreateExistingIsAlreadyExistsAndTakesNoRevision) {
  int64_t rev = mustCreate("/k", "v1");
  auto again = store_->create("/k", "v2");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().isAlreadyExists());
  EXPECT_EQ(again.status().code(), 409);
  EXPECT_EQ(store_->currentRevision(), rev);
  EXPECT_EQ(store_->get("/k")->value, "v1");
}

TEST_P(StoreConformance, UpdateSemantics) {
  int64_t created = mustCreate("/k", "v1");
  auto stale = store_->update("/k", "x", created + 100);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.status().isConflict());
  EXPECT_EQ(stale.status().code(), 409);

  auto updated = store_->update("/k", "v2", created);
  ASSERT_TRUE(updated.ok());
  EXPECT_GT(*updated, created);
  auto kv = store_->get("/k");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->createRevision, created);
  EXPECT_EQ(kv->modRevision, *updated);

  // The old revision is now stale; 0 means unconditional.
  EXPECT_TRUE(store_->update("/k", "x", created).status().isConflict());
  auto any = store_->update("/k", "v3", 0);
  ASSERT_TRUE(any.ok());
  EXPECT_GT(*any, *updated);

  auto missing = store_->update("/missing", "v", 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().isNotFound());
  EXPECT_EQ(store_->currentRevision(), *any);
}

TEST_P(StoreConformance, RemoveSemantics) {
  int64_t created = mustCreate("/k", "v1");
  int64_t updated = mustUpdate("/k", "v2");
  auto stale = store_->remove("/k", created);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.status().isConflict());

  auto removed = store_->remove("/k", updated);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->key, "/k");
  EXPECT_EQ(removed->value, "v2");
  EXPECT_EQ(removed->createRevision, created);
  EXPECT_GT(removed->modRevision, updated);
  EXPECT_EQ(store_->currentRevision(), removed->modRevision);
  EXPECT_TRUE(store_->get("/k").status().isNotFound());
  EXPECT_TRUE(store_->remove("/k", 0).status().isNotFound());
  EXPECT_TRUE(store_->update("/k", "v", 0).status().isNotFound());

  // A re-created key starts a new life: new createRevision.
  int64_t again = mustCreate("/k", "v3");
  EXPECT_GT(again, removed->modRevision);
  auto kv = store_->get("/k");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->createRevision, again);
  EXPECT_EQ(kv->value, "v3");
}

TEST_P(StoreConformance, RevisionsStrictlyIncrease) {
  int64_t last = store_->currentRevision();
  for (int i = 0; i < 20; ++i) {
    std::string key = "/r/" + std::to_string(i % 5);
    int64_t rev = 0;
    if (store_->get(key).ok()) {
      if (i % 3 == 0) {
        auto r = store_->remove(key, 0);
        ASSERT_TRUE(r.ok());
        rev = r->modRevision;
      } else {
        rev = mustUpdate(key, "v" + std::to_string(i));
      }
    } else {
      rev = mustCreate(key, "v" + std::to_string(i));
    }
    EXPECT_EQ(rev, last + 1) << "every write takes exactly the next revision";
    last = rev;
  }
}

TEST_P(StoreConformance, BinaryKeysAndValues) {
  std::string key("/bin/\x00\xff\x01", 8);
  std::string value("a\x00b\xff", 4);
  mustCreate(key, value);
  mustCreate("/bin/empty", "");
  auto kv = store_->get(key);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, value);
  auto empty = store_->get("/bin/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->value, "");
  auto all = store_->list({.prefix = "/bin/"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(keysOf(*all), (std::vector<std::string>{key, "/bin/empty"}));
}

TEST_P(StoreConformance, ListPrefixOrderAndBounds) {
  for (const char* k : {"/a/3", "/a/1", "/b/1", "/a", "/a/2", "/ab", "/a/\xff"}) mustCreate(k, k);
  auto r = store_->list({.prefix = "/a/"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(keysOf(*r), (std::vector<std::string>{"/a/1", "/a/2", "/a/3", "/a/\xff"}));
  EXPECT_FALSE(r->more);
  EXPECT_EQ(r->revision, store_->currentRevision());
  EXPECT_EQ(r->items[0].value, "/a/1");

  auto all = store_->list({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 7u);
  EXPECT_TRUE(std::is_sorted(all->items.begin(), all->items.end(),
                             [](const KeyValue& x, const KeyValue& y) { return x.key < y.key; }));

  auto none = store_->list({.prefix = "/zzz/"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());

  // A prefix ending in 0xff has no simple upper bound.
  auto ff = store_->list({.prefix = "/a/\xff"});
  ASSERT_TRUE(ff.ok());
  EXPECT_EQ(keysOf(*ff), (std::vector<std::string>{"/a/\xff"}));
}

TEST_P(StoreConformance, ListPaginationWithRemaining) {
  for (int i = 0; i < 10; ++i) mustCreate("/p/" + std::to_string(i), "v");
  mustCreate("/q/0", "v");
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto r = store_->list({.prefix = "/p/", .startAfter = after, .limit = 3});
    ASSERT_TRUE(r.ok());
    ++pages;
    for (const auto& kv : r->items) seen.push_back(kv.key);
    int64_t left = 10 - static_cast<int64_t>(seen.size());
    EXPECT_EQ(r->more, left > 0);
    if (!r->more) break;
    EXPECT_EQ(r->remaining, left);
    after = r->items.back().key;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(seen.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[i], "/p/" + std::to_string(i));

  // startAfter before the prefix starts at the prefix; exact limit is not "more".
  auto r = store_->list({.prefix = "/p/", .startAfter = "/a", .limit = 10});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items.size(), 10u);
  EXPECT_FALSE(r->more);
}

TEST_P(StoreConformance, ListAtRevision) {
  int64_t r1 = mustCreate("/h/a", "a1");
  int64_t r2 = mustCreate("/h/b", "b1");
  int64_t r3 = mustUpdate("/h/a", "a2");
  auto del = store_->remove("/h/b", 0);
  ASSERT_TRUE(del.ok());
  int64_t r5 = mustCreate("/h/c", "c1");

  auto at = [&](int64_t rev) {
    auto r = store_->list({.prefix = "/h/", .revision = rev});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : ListResult{};
  };
  auto s1 = at(r1);
  EXPECT_EQ(s1.revision, r1);
  EXPECT_EQ(keysOf(s1), (std::vector<std::string>{"/h/a"}));
  auto s2 = at(r2);
  EXPECT_EQ(keysOf(s2), (std::vector<std::string>{"/h/a", "/h/b"}));
  EXPECT_EQ(s2.items[0].value, "a1");
  auto s3 = at(r3);
  ASSERT_EQ(s3.items.size(), 2u);
  EXPECT_EQ(s3.items[0].value, "a2");
  EXPECT_EQ(s3.items[0].createRevision, r1);
  EXPECT_EQ(s3.items[0].modRevision, r3);
  EXPECT_EQ(keysOf(at(del->modRevision)), (std::vector<std::string>{"/h/a"}));
  EXPECT_EQ(keysOf(at(r5)), (std::vector<std::string>{"/h/a", "/h/c"}));

  // Paginating an old revision counts what was there then.
  auto page = store_->list({.prefix = "/h/", .limit = 1, .revision = r2});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keysOf(*page), (std::vector<std::string>{"/h/a"}));
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->remaining, 1);

  auto future = store_->list({.prefix = "/h/", .revision = r5 + 100});
  EXPECT_FALSE(future.ok());
  EXPECT_EQ(store_->list({.revision = -1}).status().code(), 400);
  EXPECT_EQ(store_->list({.limit = -1}).status().code(), 400);
}

TEST_P(StoreConformance, CompactionExpiresOldRevisionsAndKeepsState) {
  int64_t r1 = mustCreate("/c/a", "a1");
  mustCreate("/c/b", "b1");
  int64_t r3 = mustUpdate("/c/a", "a2");
  auto del = store_->remove("/c/b", 0);
  ASSERT_TRUE(del.ok());
  int64_t r5 = mustUpdate("/c/a", "a3");
  mustCreate("/c/d", "d1");

  ASSERT_TRUE(store_->compact(r5).ok());
  EXPECT_EQ(store_->compactedRevision(), r5);

  auto old = store_->list({.prefix = "/c/", .revision = r3});
  ASSERT_FALSE(old.ok());
  EXPECT_TRUE(old.status().isExpired());
  EXPECT_EQ(old.status().code(), 410);

  auto atCompacted = store_->list({.prefix = "/c/", .revision = r5});
  ASSERT_TRUE(atCompacted.ok());
  ASSERT_EQ(keysOf(*atCompacted), (std::vector<std::string>{"/c/a"}));
  EXPECT_EQ(atCompacted->items[0].value, "a3");
  EXPECT_EQ(atCompacted->items[0].createRevision, r1);

  auto now = store_->list({.prefix = "/c/"});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(keysOf(*now), (std::vector<std::string>{"/c/a", "/c/d"}));
  EXPECT_EQ(store_->get("/c/a")->value, "a3");

  // Compacting backwards is harmless; the store keeps working.
  EXPECT_TRUE(store_->compact(r1).ok());
  EXPECT_EQ(store_->compactedRevision(), r5);
  EXPECT_FALSE(store_->compact(store_->currentRevision() + 10).ok());
  mustUpdate("/c/a", "a4");
  EXPECT_EQ(store_->get("/c/a")->createRevision, r1);
}

TEST_P(StoreConformance, WatchReplayThenLiveWithoutGapOrDuplicate) {
  int64_t base = mustCreate("/w/a", "a1");
  mustUpdate("/w/a", "a2");
  mustCreate("/other/x", "x");
  mustCreate("/w/b", "b1");
  ASSERT_TRUE(store_->remove("/w/a", 0).ok());

  // Writers race the watch's start.
  std::atomic<bool> go{true};
  std::thread writer([&] {
    for (int i = 0; i < 200 && go; ++i) {
      ASSERT_TRUE(store_->create("/w/live/" + std::to_string(i), "v").ok());
      if (i % 50 == 0) std::this_thread::sleep_for(1ms);
    }
  });
  Collector c;
  auto w = store_->watch("/w/", base, c.callback());
  ASSERT_TRUE(w.ok()) << w.status().message();
  writer.join();
  mustCreate("/w/last", "z");
  int64_t end = store_->currentRevision();

  // Expected: every /w/ write after `base`, i.e. 3 history + 200 live + 1.
  auto events = c.waitFor(204);
  ASSERT_EQ(events.size(), 204u);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(c.snapshot().size(), 204u) << "no duplicates afterwards";
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].kv.modRevision, events[i - 1].kv.modRevision);
  }
  EXPECT_EQ(events.back().kv.modRevision, end);
  for (const auto& e : events) EXPECT_EQ(e.kv.key.rfind("/w/", 0), 0u) << e.kv.key;

  // The replayed history carries types and previous values.
  EXPECT_EQ(events[0].kv.key, "/w/a");
  EXPECT_EQ(events[0].type, Event::Type::kPut);
  EXPECT_FALSE(events[0].isCreate());
  EXPECT_EQ(events[0].kv.value, "a2");
  EXPECT_EQ(events[0].prevKv.value, "a1");
  EXPECT_EQ(events[0].prevKv.modRevision, base);
  EXPECT_TRUE(events[1].isCreate());
  EXPECT_EQ(events[1].kv.key, "/w/b");
  EXPECT_TRUE(events[1].prevKv.key.empty());
  EXPECT_EQ(events[2].type, Event::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, "/w/a");
  EXPECT_EQ(events[2].kv.value, "");
  EXPECT_EQ(events[2].prevKv.value, "a2");
  EXPECT_EQ(events[2].kv.modRevision, events[1].kv.modRevision + 1);
  EXPECT_TRUE(events[3].isCreate());
}

TEST_P(StoreConformance, WatchFromNowSeesOnlyNewEvents) {
  mustCreate("/n/old", "v");
  Collector c;
  auto w = store_->watch("/n/", 0, c.callback());
  ASSERT_TRUE(w.ok());
  int64_t rev = mustUpdate("/n/old", "v2");
  auto events = c.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.modRevision, rev);
  EXPECT_EQ(events[0].prevKv.value, "v");
  EXPECT_EQ(events[0].prevKv.modRevision, rev - 1);
}

TEST_P(StoreConformance, LiveEventsMatchReplayedEvents) {
  // The same history seen live and replayed later must be identical.
  mustCreate("/unrelated", "x");  // so that `start` is not 0, which means "from now"
  Collector live;
  auto w = store_->watch("/e/", 0, live.callback());
  ASSERT_TRUE(w.ok());
  int64_t start = store_->currentRevision();
  mustCreate("/e/a", "1");
  mustUpdate("/e/a", "2");
  ASSERT_TRUE(store_->remove("/e/a", 0).ok());
  mustCreate("/e/a", "3");
  auto liveEvents = live.waitFor(4);
  ASSERT_EQ(liveEvents.size(), 4u);
  Collector replay;
  auto w2 = store_->watch("/e/", start, replay.callback());
  ASSERT_TRUE(w2.ok());
  auto replayed = replay.waitFor(4);
  ASSERT_EQ(replayed.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(liveEvents[i].type, replayed[i].type);
    EXPECT_EQ(liveEvents[i].kv.key, replayed[i].kv.key);
    EXPECT_EQ(liveEvents[i].kv.value, replayed[i].kv.value);
    EXPECT_EQ(liveEvents[i].kv.createRevision, replayed[i].kv.createRevision);
    EXPECT_EQ(liveEvents[i].kv.modRevision, replayed[i].kv.modRevision);
    EXPECT_EQ(liveEvents[i].prevKv.key, replayed[i].prevKv.key);
    EXPECT_EQ(liveEvents[i].prevKv.value, replayed[i].prevKv.value);
    EXPECT_EQ(liveEvents[i].prevKv.modRevision, replayed[i].prevKv.modRevision);
  }
  EXPECT_EQ(liveEvents[2].type, Event::Type::kDelete);
  EXPECT_EQ(liveEvents[2].prevKv.value, "2");
  EXPECT_TRUE(liveEvents[3].isCreate());
}

TEST_P(StoreConformance, WatchFromCompactedRevisionIsExpired) {
  int64_t r1 = mustCreate("/x/a", "1");
  mustUpdate("/x/a", "2");
  int64_t r3 = mustUpdate("/x/a", "3");
  mustUpdate("/x/a", "4");
  ASSERT_TRUE(store_->compact(r3).ok());
  Collector c;
  auto w = store_->watch("/x/", r1, c.callback());
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().isExpired());
  EXPECT_EQ(w.status().code(), 410);

  // From the compacted revision itself everything later is still there.
  auto ok = store_->watch("/x/", r3, c.callback());
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  auto events = c.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "4");
  EXPECT_EQ(events[0].prevKv.value, "3");
}

TEST_P(StoreConformance, CancelledWatchGetsNoMoreEvents) {
  Collector c;
  auto w = store_->watch("/s/", 0, c.callback());
  ASSERT_TRUE(w.ok());
  mustCreate("/s/1", "v");
  ASSERT_EQ(c.waitFor(1).size(), 1u);
  w->reset();
  mustCreate("/s/2", "v");
  Collector sentinel;  // a second watch proves delivery of /s/2 happened
  auto w2 = store_->watch("/s/", store_->currentRevision() - 1, sentinel.callback());
  ASSERT_TRUE(w2.ok());
  ASSERT_EQ(sentinel.waitFor(1).size(), 1u);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(c.snapshot().size(), 1u);
}

TEST_P(StoreConformance, CallbackMayCallIntoStoreAndCancelItself) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  std::unique_ptr<Watch> self;
  int calls = 0;
  auto w = store_->watch("/re/", 0, [&](const Event& e) {
    // Reads and writes from inside a callback must not deadlock.
    auto kv = store_->get(e.kv.key);
    auto list = store_->list({.prefix = "/re/"});
    if (e.kv.key == "/re/a") ASSERT_TRUE(store_->create("/re/b", "from-callback").ok());
    std::lock_guard lock(mu);
    ++calls;
    seen.push_back(kv.ok() ? kv->value : "missing");
    if (e.kv.key == "/re/b") self.reset();  // cancel from inside the callback
    cv.notify_all();
  });
  ASSERT_TRUE(w.ok());
  {
    std::lock_guard lock(mu);
    self = std::move(*w);
  }
  mustCreate("/re/a", "v");
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return calls >= 2; }));
  }
  mustCreate("/re/c", "v");
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(mu);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"v", "from-callback"}));
  EXPECT_EQ(self, nullptr);
}

TEST_P(StoreConformance, ConcurrentWritersGetUniqueDenseRevisions) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  int64_t start = store_->currentRevision();
  Collector c;
  auto w = store_->watch("/cc/", start, c.callback());
  ASSERT_TRUE(w.ok());
  std::vector<std::vector<int64_t>> revs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "/cc/" + std::to_string(t) + "/" + std::to_string(i);
        auto r = store_->create(key, "v");
        if (r.ok()) revs[t].push_back(*r);
        // Contended conditional updates on one shared key: exactly one of racing writers wins.
        if (i % 10 == 0) (void)store_->create("/cc/shared", "0");
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : revs) {
    EXPECT_EQ(v.size(), static_cast<size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread)) << "no duplicate revision";
  // Exactly one create of /cc/shared succeeded, so one extra revision.
  EXPECT_EQ(store_->currentRevision(), start + kThreads * kPerThread + 1);
  auto events = c.waitFor(kThreads * kPerThread + 1);
  ASSERT_EQ(events.size(), static_cast<size_t>(kThreads * kPerThread + 1));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.modRevision, start + 1 + static_cast<int64_t>(i)) << "no gap";
  }
  auto list = store_->list({.prefix = "/cc/"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), static_cast<size_t>(kThreads * kPerThread + 1));
}

TEST_P(StoreConformance, ConcurrentConditionalUpdatesOneWinnerPerRevision) {
  int64_t rev = mustCreate("/cas", "0");
  constexpr int kThreads = 4;
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto cur = store_->get("/cas");
        if (!cur.ok()) continue;
        int n = std::stoi(cur->value);
        auto r = store_->update("/cas", std::to_string(n + 1), cur->modRevision);
        if (r.ok()) {
          ++wins;
        } else {
          EXPECT_TRUE(r.status().isConflict());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto kv = store_->get("/cas");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(std::stoi(kv->value), wins.load()) << "no lost update";
  EXPECT_EQ(kv->modRevision, rev + wins.load());
}

TEST_P(StoreConformance, CloseRejectsFurtherCalls) {
  mustCreate("/z", "v");
  store_->close();
  auto g = store_->get("/z");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), 503);
  EXPECT_EQ(store_->create("/y", "v").status().code(), 503);
  EXPECT_EQ(store_->list({}).status().code(), 503);
  EXPECT_FALSE(store_->watch("/", 0, [](const Event&) {}).ok());
  store_->close();  // idempotent
}

TEST_P(StoreConformance, WatchOutlivingStoreIsSafe) {
  Collector c;
  auto w = store_->watch("/", 0, c.callback());
  ASSERT_TRUE(w.ok());
  mustCreate("/a", "v");
  c.waitFor(1);
  store_.reset();
  w->reset();  // destroying the watch after the store must not crash
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreConformance,
    testing::Values(
        Backend{"Memory", [](const fs::path&) -> std::unique_ptr<Interface> {
                  return std::make_unique<MemoryStore>();
                }},
        Backend{"Sqlite",
                [](const fs::path& dir) -> std::unique_ptr<Interface> {
                  auto s = SqliteStore::open((dir / "store.db").string());
                  EXPECT_TRUE(s.ok()) << s.status().message();
                  return s.ok() ? std::move(s).value() : nullptr;
                }}),
    backendName);

}  // namespace
}  // namespace berth::store
