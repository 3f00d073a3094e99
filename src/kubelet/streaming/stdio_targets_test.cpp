#include "kubelet/streaming/stdio_targets.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace berth::kubelet::streaming {
namespace {

// A stand-in for the shim's attach socket: accepts one client and records what it sends.
class FakeShim {
 public:
  FakeShim() {
    char tmpl[] = "/tmp/berth-attach-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/attach.sock";
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 1), 0);
  }
  ~FakeShim() {
    if (conn_ >= 0) ::close(conn_);
    ::close(listen_);
    std::filesystem::remove_all(dir_);
  }
  ContainerInfo info() const {
    ContainerInfo c;
    c.attachSocket = path_;
    c.pid = 1;
    return c;
  }
  void accept() { conn_ = ::accept(listen_, nullptr, nullptr); }
  void send(const std::string& bytes) {
    ASSERT_EQ(::write(conn_, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  }
  // Everything the client sent until it closed, as (stream, payload) frames.
  std::vector<std::pair<int, std::string>> received() {
    std::string all;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(conn_, buf, sizeof buf)) > 0) all.append(buf, size_t(n));
    std::vector<std::pair<int, std::string>> frames;
    while (all.size() >= 5) {
      size_t len = 0;
      for (int i = 1; i <= 4; ++i) len = (len << 8) | static_cast<uint8_t>(all[i]);
      frames.emplace_back(static_cast<uint8_t>(all[0]), all.substr(5, len));
      all.erase(0, 5 + len);
    }
    return frames;
  }

 private:
  std::string dir_, path_;
  int listen_ = -1, conn_ = -1;
};

TEST(AttachTarget, SendsInputResizeAndTheEndOfItsStdinOnce) {
  FakeShim shim;
  auto target = connectAttach(shim.info(), StdioOptions{true, true, false, true});
  ASSERT_TRUE(target.ok()) << target.status().message();
  shim.accept();
  (*target)->writeStdin("ls\r");
  (*target)->resize(100, 30);
  (*target)->closeStdin();
  (*target)->abort();  // a detach after stdin ended says nothing more
  auto frames = shim.received();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], std::make_pair(0, std::string("ls\r")));
  EXPECT_EQ(frames[1], std::make_pair(3, std::string(R"({"Width":100,"Height":30})")));
  EXPECT_EQ(frames[2], std::make_pair(4, std::string()));
}

TEST(AttachTarget, ADetachEndsTheClientsStdin) {
  FakeShim shim;
  auto target = connectAttach(shim.info(), StdioOptions{true, true, false, false});
  ASSERT_TRUE(target.ok());
  shim.accept();
  (*target)->abort();
  auto frames = shim.received();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, 4);
}

TEST(AttachTarget, WithoutStdinNothingIsTypedOrEnded) {
  FakeShim shim;
  auto target = connectAttach(shim.info(), StdioOptions{false, true, true, false});
  ASSERT_TRUE(target.ok());
  shim.accept();
  (*target)->writeStdin("ignored");
  (*target)->closeStdin();
  (*target)->abort();
  EXPECT_TRUE(shim.received().empty());
}

TEST(AttachTarget, RelaysOutputAndTheExitCode) {
  FakeShim shim;
  auto target = connectAttach(shim.info(), StdioOptions{false, true, true, false});
  ASSERT_TRUE(target.ok());
  shim.accept();
  shim.send(attachFrame(1, "out") + attachFrame(2, "err") + attachFrame(5, "3"));
  std::vector<std::pair<int, std::string>> out;
  while (!(*target)->outputFds().empty()) (*target)->readOutput((*target)->outputFds()[0], out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], std::make_pair(1, std::string("out")));
  EXPECT_EQ(out[1], std::make_pair(2, std::string("err")));
  EXPECT_EQ((*target)->wait().exitCode, 3);
}

}  // namespace
}  // namespace berth::kubelet::streaming
