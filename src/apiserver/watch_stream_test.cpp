// A watch detached to the server's stream loop, over a socketpair: events from the cache reach
// the client without a thread of the watch's own; a client hang-up unregisters the watcher; a
// watcher that overflows while its client does not read ends the watch; timeoutSeconds ends it.
#include "apiserver/watch_stream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "apiserver/http/internal/stream_loop.h"
#include "apiserver/http/internal/stream_test_util.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using http::internal::StreamLoop;

class WatchStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
    ASSERT_TRUE(loop.start());
  }
  void TearDown() override {
    loop.stop();
    registry.stop();
    cache.stop();
  }

  const core::ResourceType& cms() { return *core::findResource("", "v1", "configmaps"); }
  void createConfigMap(const std::string& name, size_t dataBytes = 1) {
    auto cm = json::object{{"metadata", json::object{{"name", name}}},
                           {"data", json::object{{"a", std::string(dataBytes, 'v')}}}};
    ASSERT_TRUE(registry.create(cms(), "default", cm, wo).ok());
  }

  // Detaches a ConfigMap watch of namespace default over the socketpair, as the handler does.
  void detach(std::shared_ptr<CacheWatcher> watcher, Clock::time_point deadline) {
    WatchFormat format;
    format.rt = &cms();
    format.prefix = cms().storagePrefix + "default/";
    auto encoder = std::make_unique<WatchEncoder>(registry, std::move(format));
    auto source = std::make_shared<WatchSource>(std::move(encoder), cache, *cache.forType(cms()),
                                                watcher, cache.revision(), deadline, stopping);
    auto stream = loop.prepare(source, true);
    watcher->setListener([waker = StreamLoop::waker(stream)] { waker->wake(); });
    loop.adopt(stream, http::internal::plainTransport(pair.server), probe.callback());
  }
  std::string readUntil(const std::string& until, std::chrono::milliseconds timeout = 5s) {
    return pair.readUntil(until, timeout);
  }
  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  WriteOptions wo{false, "test", ""};
  std::atomic<bool> stopping{false};
  StreamLoop loop{std::chrono::milliseconds(0)};
  http::internal::SocketPair pair;
  http::internal::DoneProbe probe;
};

TEST_F(WatchStreamTest, EventsArriveAndAHangUpUnregistersTheWatcher) {
  auto* resource = cache.forType(cms());
  size_t before = resource->watchers();
  auto watcher = resource->watch(0);
  ASSERT_TRUE(watcher.ok());
  detach(*watcher, Clock::now() + 60s);
  createConfigMap("one");
  EXPECT_NE(readUntil("\"one\"").find("{\"type\":\"ADDED\",\"object\":{"), std::string::npos)
      << pair.received;
  EXPECT_EQ(resource->watchers(), before + 1);
  ::close(pair.client);
  pair.client = -1;
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
  EXPECT_EQ(resource->watchers(), before);  // the watch cache no longer feeds it
}

TEST_F(WatchStreamTest, AWatcherThatOverflowsWhileItsClientDoesNotReadEndsTheWatch) {
  int small = 4096;
  ::setsockopt(pair.server, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  // A watcher with room for 4 events (the cache's own hold 100,000), fed through the cache.
  auto watcher = std::make_shared<CacheWatcher>(4);
  auto* resource = cache.forType(cms());
  detach(watcher, Clock::now() + 60s);
  // Big events fill the socket and the outbox; the loop stops draining the watcher, whose
  // queue then overflows: the watch ends, as upstream ends a watcher that cannot keep up.
  for (int i = 0; i < 20; ++i) {
    createConfigMap("big" + std::to_string(i), 60 * 1024);
    ASSERT_TRUE(cache.waitUntilFresh(5s));
    auto obj = resource->get(cms().storagePrefix + "default/big" + std::to_string(i));
    ASSERT_NE(obj, nullptr);
    watcher->push(CacheEvent{CacheEvent::Type::kAdded, obj, nullptr, obj->resourceVersion});
  }
  EXPECT_FALSE(probe.done);  // still trying to deliver what it has
  std::string got = readUntil("\r\n0\r\n\r\n", 10s);
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_TRUE(probe.reusable);  // ended cleanly: the client re-lists and watches again
  EXPECT_NE(got.find("\"big0\""), std::string::npos);
  EXPECT_EQ(got.find("\"big19\""), std::string::npos) << "the overflowed events were not sent";
  EXPECT_EQ(got.substr(got.size() - 5), "0\r\n\r\n");
}

TEST_F(WatchStreamTest, TimeoutSecondsEndsAnIdleWatch) {
  auto watcher = cache.forType(cms())->watch(0);
  ASSERT_TRUE(watcher.ok());
  auto start = Clock::now();
  detach(*watcher, start + 300ms);
  EXPECT_EQ(readUntil("0\r\n\r\n"), "0\r\n\r\n");
  EXPECT_GE(Clock::now() - start, 290ms);
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_TRUE(probe.reusable);
}

TEST_F(WatchStreamTest, SelectorWatchSeesAnObjectThatStopsMatchingAsDeleted) {
  auto watcher = cache.forType(cms())->watch(0);
  ASSERT_TRUE(watcher.ok());
  WatchFormat format;
  format.rt = &cms();
  format.prefix = cms().storagePrefix + "default/";
  auto selectors = parseSelectors(cms(), "team=a", "");
  ASSERT_TRUE(selectors.ok());
  format.selectors = *selectors;
  WatchEncoder encoder(registry, format);
  auto cm = json::object{{"metadata", json::object{{"name", "s"}, {"labels", {{"team", "a"}}}}}};
  ASSERT_TRUE(registry.create(cms(), "default", cm, wo).ok());
  PatchRequest pr{PatchType::kMerge, json::parse(R"({"metadata":{"labels":{"team":"b"}}})"), false};
  ASSERT_TRUE(registry.patch(cms(), "default", "s", pr, wo).ok());
  std::vector<CacheEvent> events;
  for (int i = 0; i < 50 && events.size() < 2; ++i) {
    bool closed = false;
    auto got = (*watcher)->next(100ms, &closed);
    events.insert(events.end(), got.begin(), got.end());
  }
  ASSERT_EQ(events.size(), 2u);
  std::string lines;
  encoder.encode(events, lines);
  auto added = lines.find("{\"type\":\"ADDED\"");
  auto deleted = lines.find("{\"type\":\"DELETED\"");
  EXPECT_NE(added, std::string::npos) << lines;
  ASSERT_NE(deleted, std::string::npos) << lines;
  // The last state that matched, at the revision of the change.
  EXPECT_NE(lines.find("\"team\":\"a\"", deleted), std::string::npos) << lines;
  EXPECT_NE(
      lines.find("\"resourceVersion\":\"" + std::to_string(events[1].revision) + "\"", deleted),
      std::string::npos)
      << lines;
  cache.forType(cms())->unwatch(*watcher);
}

}  // namespace
}  // namespace berth::apiserver
