#include "sys/socket_address.h"

#include <gtest/gtest.h>

namespace berth::sys {
namespace {

TEST(SocketAddress, ParsesLiteralsWithAndWithoutPorts) {
  auto v4 = SocketAddress::parse("10.0.0.1:53", 99);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->text(), "10.0.0.1:53");
  EXPECT_EQ(SocketAddress::parse("10.0.0.1", 99)->port(), 99);
  auto v6 = SocketAddress::parse("[fd00::1]:8053", 53);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->text(), "[fd00::1]:8053");
  EXPECT_EQ(SocketAddress::parse("::1", 53)->text(), "[::1]:53");
  EXPECT_EQ(SocketAddress::parse(":53", 0)->text(), "0.0.0.0:53");
}

TEST(SocketAddress, RejectsWhatIsNotAnAddress) {
  EXPECT_FALSE(SocketAddress::parse("example.com:53", 53));
  EXPECT_FALSE(SocketAddress::parse("[::1", 53));
  EXPECT_FALSE(SocketAddress::parse("[::1]x", 53));
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:70000", 53));
  EXPECT_FALSE(SocketAddress::fromLiteral("1.2.3.4", -1));
  EXPECT_FALSE(SocketAddress::fromLiteral("[::1]", 1));  // brackets are parse()'s business
}

TEST(SocketAddress, ResolvesLiteralsWithoutTheResolverAndNamesWithIt) {
  auto lit = SocketAddress::resolve("127.0.0.1", 8080);
  ASSERT_TRUE(lit);
  EXPECT_EQ(lit->text(), "127.0.0.1:8080");
  auto local = SocketAddress::resolve("localhost", 8080);  // /etc/hosts, no network
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port(), 8080);
  EXPECT_TRUE(local->host() == "127.0.0.1" || local->host() == "::1") << local->host();
  EXPECT_FALSE(SocketAddress::resolve("no-such-host.invalid", 80));
}

TEST(SocketAddress, IsIpLiteralMatchesGoParseIp) {
  EXPECT_TRUE(isIpLiteral("192.168.0.1"));
  EXPECT_TRUE(isIpLiteral("fe80::1"));
  EXPECT_FALSE(isIpLiteral("[::1]"));
  EXPECT_FALSE(isIpLiteral("example.com"));
  EXPECT_FALSE(isIpLiteral(""));
}

TEST(UniqueFd, ClosesWhatItOwnsAndHandsOverOnMove) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.ok());
    EXPECT_TRUE(b.ok());
  }
  EXPECT_EQ(::close(fds[0]), -1);  // already closed by b
}

}  // namespace
}  // namespace berth::sys
