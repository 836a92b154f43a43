#include "api/http_server.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

std::string Group(const char* ip) { return ConnectionGroup(boost::asio::ip::make_address(ip)); }

TEST(HttpServerTest, ConnectionsAreCountedByIpv4AddressOrIpv6Slash64) {
  EXPECT_EQ(Group("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(Group("::ffff:203.0.113.7"), "203.0.113.7") << "mapped counts as IPv4";
  EXPECT_EQ(Group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(Group("2001:db8:1:2:bbbb::9"), Group("2001:db8:1:2:aaaa::1"))
      << "one subscriber's /64 is one client";
  EXPECT_NE(Group("2001:db8:1:3::1"), Group("2001:db8:1:2::1"));
}

}  // namespace
}  // namespace bluegate::api
