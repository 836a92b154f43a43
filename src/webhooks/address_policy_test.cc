#include "webhooks/address_policy.h"

#include <gtest/gtest.h>

namespace bluegate::webhooks {
namespace {

std::string Why(const char* ip, AddressPolicy p = {}) {
  return RefusalReason(boost::asio::ip::make_address(ip), p);
}

TEST(AddressPolicyTest, RefusesSpecialRangesByDefault) {
  for (const char* ip :
       {"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "100.64.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "fc00::1", "fe80::1",
        "::ffff:127.0.0.1", "fd00:ec2::254"}) {
    EXPECT_NE(Why(ip), "") << ip;
  }
}

TEST(AddressPolicyTest, AllowsPublicAddresses) {
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "2606:4700::1111"}) EXPECT_EQ(Why(ip), "") << ip;
}

TEST(AddressPolicyTest, TheSwitchesOpenTheirRangesOnly) {
  AddressPolicy loop{true, false};
  EXPECT_EQ(Why("127.0.0.1", loop), "");
  EXPECT_EQ(Why("::1", loop), "");
  EXPECT_NE(Why("10.0.0.1", loop), "");
  AddressPolicy priv{false, true};
  EXPECT_EQ(Why("10.0.0.1", priv), "");
  EXPECT_NE(Why("127.0.0.1", priv), "");
  EXPECT_NE(Why("169.254.169.254", AddressPolicy{true, true}), "") << "metadata stays refused";
}

}  // namespace
}  // namespace bluegate::webhooks
