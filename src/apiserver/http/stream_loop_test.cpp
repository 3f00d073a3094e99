// The stream loop over a socketpair: chunk framing, partial writes, back-pressure, a client that
// stops reading, hang-up, source timeouts and stop.
#include "apiserver/http/internal/stream_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "apiserver/http/internal/stream_test_util.h"

namespace berth::apiserver::http::internal {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A source fed by the test: pieces queued with push(), an end with finish(), or a deadline.
class TestSource : public StreamSource {
 public:
  void push(std::string data) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(data));
  }
  void finish() {
    std::lock_guard lock(mu_);
    end_ = true;
  }
  void endAt(Clock::time_point at) { deadline_ = at; }
  // Produce `size` bytes of filler on every call, forever (a firehose).
  void firehose(size_t size) { firehose_ = size; }

  Next produce(std::string& out, Clock::time_point now) override {
    std::lock_guard lock(mu_);
    ++calls;
    if (firehose_ > 0) {
      out.append(firehose_, 'x');
      produced += firehose_;
      return Next::kMore;
    }
    while (!queue_.empty()) {
      out += queue_.front();
      queue_.pop_front();
    }
    produced += out.size();
    if (end_ || now >= deadline_) return Next::kEnd;
    return Next::kIdle;
  }
  Clock::time_point wakeAt() const override { return deadline_; }
  void closed() override { closedCalls++; }

  std::atomic<int> calls{0};
  std::atomic<size_t> produced{0};
  std::atomic<int> closedCalls{0};

 private:
  std::mutex mu_;
  std::deque<std::string> queue_;
  bool end_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();
  size_t firehose_ = 0;
};

class StreamLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.start()); }
  // Adopts `source` over the pair's server end; returns its waker.
  std::shared_ptr<StreamWaker> run(std::shared_ptr<TestSource> source, SocketPair& pair,
                                   DoneProbe& probe, bool keepAlive = true) {
    auto stream = loop_.prepare(source, keepAlive);
    auto waker = StreamLoop::waker(stream);
    loop_.adopt(stream, plainTransport(pair.server), probe.callback());
    return waker;
  }
  StreamLoop loop_{std::chrono::milliseconds(400)};
};

TEST_F(StreamLoopTest, WritesChunksWhenWokenAndEndsWithTheLastChunk) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  source->push("first");  // queued before adoption: the first produce() sends it
  auto waker = run(source, pair, probe);
  EXPECT_EQ(pair.readUntil("first\r\n"), "5\r\nfirst\r\n");
  source->push("second event");
  waker->wake();
  EXPECT_EQ(pair.readUntil("event\r\n"), "5\r\nfirst\r\nc\r\nsecond event\r\n");
  source->finish();
  waker->wake();
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_TRUE(probe.reusable);  // keep-alive: the connection goes back to the server
  EXPECT_EQ(pair.readUntil("0\r\n\r\n"), "5\r\nfirst\r\nc\r\nsecond event\r\n0\r\n\r\n");
  EXPECT_EQ(source->closedCalls.load(), 1);
  EXPECT_EQ(loop_.streams(), 0u);
  waker->wake();  // after the end: harmless
}

TEST_F(StreamLoopTest, WithoutKeepAliveTheEndedStreamIsNotReusable) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  source->finish();
  run(source, pair, probe, /*keepAlive=*/false);
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
  EXPECT_EQ(pair.readUntil("0\r\n\r\n"), "0\r\n\r\n");
}

TEST_F(StreamLoopTest, PartialWritesDeliverEveryByteInOrder) {
  SocketPair pair;
  int small = 4096;
  ::setsockopt(pair.server, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  std::string body;
  for (int i = 0; i < 200; ++i) {
    std::string piece =
        std::to_string(i) + ":" + std::string(5000 + i, static_cast<char>('a' + i % 26));
    source->push(piece);
    body += piece;
  }
  source->finish();
  char size[16];
  snprintf(size, sizeof(size), "%zx", body.size());
  std::string total = std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  // Everything was queued before adoption: one produce() makes a 1 MB chunk that the socket
  // takes a few KB at a time while the client reads slowly.
  run(source, pair, probe);
  std::string got;
  auto deadline = Clock::now() + 10s;
  while (got.find("0\r\n\r\n", got.size() > 5 ? got.size() - 5 : 0) == std::string::npos &&
         Clock::now() < deadline) {
    char buf[3000];
    ssize_t n = ::recv(pair.client, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    std::this_thread::sleep_for(100us);
  }
  EXPECT_EQ(got.size(), total.size());
  EXPECT_TRUE(got == total) << "bytes differ";
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_TRUE(probe.reusable);
}

TEST_F(StreamLoopTest, ClientThatStopsReadingIsClosedAndItsBacklogStaysInTheSource) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  source->firehose(16 * 1024);  // always more
  auto start = Clock::now();
  run(source, pair, probe);
  // The client reads nothing: the loop stops asking for more once the socket and a small
  // outbox are full, and after the write timeout (400 ms) without progress it gives up.
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
  EXPECT_GE(Clock::now() - start, 350ms);
  EXPECT_EQ(source->closedCalls.load(), 1);
  int sndbuf = 0;
  socklen_t len = sizeof(sndbuf);
  ::getsockopt(pair.client, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
  // Socket buffers on both ends plus the outbox's low-water mark and one slice, not more.
  EXPECT_LT(source->produced.load(), static_cast<size_t>(4 * sndbuf) + 4 * StreamLoop::kLowWater)
      << "the source was asked for more than the client could take";
  EXPECT_EQ(loop_.streams(), 0u);
}

TEST_F(StreamLoopTest, AnOutboxPastItsLimitClosesTheStream) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  source->push(std::string(StreamLoop::kMaxOutbox + 1, 'y'));
  StreamLoop loop(std::chrono::milliseconds(0));  // no write timeout: only the limit can end it
  ASSERT_TRUE(loop.start());
  loop.adopt(loop.prepare(source, true), plainTransport(pair.server), probe.callback());
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
  EXPECT_EQ(source->closedCalls.load(), 1);
}

TEST_F(StreamLoopTest, HangUpEndsTheStreamAndFreesTheSource) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  std::weak_ptr<TestSource> weak = source;
  auto waker = run(source, pair, probe);
  source.reset();
  EXPECT_EQ(pair.readUntil("never", 200ms), "");  // idle: nothing written
  EXPECT_FALSE(probe.done);
  ::close(pair.client);
  pair.client = -1;
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
  EXPECT_TRUE(weak.expired());  // the loop let go of the source (a watch: its CacheWatcher)
  EXPECT_EQ(loop_.streams(), 0u);
  waker->wake();  // a feed that still holds the waker: harmless
}

TEST_F(StreamLoopTest, BytesFromTheClientEndTheStream) {
  SocketPair pair;
  DoneProbe probe;
  run(std::make_shared<TestSource>(), pair, probe);
  ASSERT_EQ(::send(pair.client, "GET / HTTP/1.1\r\n\r\n", 18, 0), 18);
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_FALSE(probe.reusable);
}

TEST_F(StreamLoopTest, WakeAtEndsAnIdleStreamWithoutAWake) {
  SocketPair pair;
  DoneProbe probe;
  auto source = std::make_shared<TestSource>();
  auto start = Clock::now();
  source->endAt(start + 300ms);  // e.g. a watch's timeoutSeconds
  run(source, pair, probe);
  ASSERT_TRUE(probe.waitFor(5s));
  EXPECT_GE(Clock::now() - start, 290ms);
  EXPECT_TRUE(probe.reusable);
  EXPECT_EQ(pair.readUntil("0\r\n\r\n"), "0\r\n\r\n");
  EXPECT_LE(source->calls.load(), 3);  // no busy polling while idle
}

TEST_F(StreamLoopTest, StopEndsEveryStreamAndLaterAdoptionsAtOnce) {
  SocketPair a, b;
  DoneProbe probeA, probeB;
  auto sourceA = std::make_shared<TestSource>();
  run(sourceA, a, probeA);
  std::this_thread::sleep_for(50ms);
  loop_.stop();
  ASSERT_TRUE(probeA.waitFor(1s));
  EXPECT_FALSE(probeA.reusable);
  EXPECT_EQ(sourceA->closedCalls.load(), 1);
  auto sourceB = std::make_shared<TestSource>();
  run(sourceB, b, probeB);
  ASSERT_TRUE(probeB.waitFor(1s));
  EXPECT_FALSE(probeB.reusable);
  EXPECT_EQ(sourceB->closedCalls.load(), 1);
}

}  // namespace
}  // namespace berth::apiserver::http::internal
