#include "sys/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace berth::sys {
namespace {

// A descriptor opened without O_CLOEXEC (as Asio opens its listening sockets) must not reach the
// child: long-lived children (container shims, nginx) would keep it, and with it the port.
TEST(RunProcess, ChildGetsOnlyStdio) {
  int leaky = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 3);
  std::string fd = std::to_string(leaky);
  auto r = runProcess({"/bin/sh", "-c", "if [ -e /proc/self/fd/" + fd +
                                            " ]; then echo open; else echo closed; fi"},
                      {});
  ::close(leaky);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exitCode, 0);
  EXPECT_EQ(r->out, "closed\n");
}

}  // namespace
}  // namespace berth::sys
