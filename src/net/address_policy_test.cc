#include "net/address_policy.h"

#include <gtest/gtest.h>

namespace bluegate::net {
namespace {

std::string Why(const char* ip, AddressPolicy p = {}) {
  return RefusalReason(boost::asio::ip::make_address(ip), p);
}

AddressPolicy Open() {
  AddressPolicy p;
  p.allow_loopback = true;
  p.allow_private = true;
  return p;
}

TEST(AddressPolicyTest, RefusesSpecialRangesByDefault) {
  for (const char* ip :
       {"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "100.64.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1",
        "198.51.100.1", "203.0.113.1", "fc00::1", "fe80::1", "::ffff:127.0.0.1",
        "fd00:ec2::254", "::", "ff02::1", "2001:db8::1"}) {
    EXPECT_NE(Why(ip), "") << ip;
  }
}

TEST(AddressPolicyTest, AllowsPublicAddresses) {
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_EQ(Why(ip), "") << ip;
  }
}

TEST(AddressPolicyTest, TheSwitchesOpenTheirRangesOnly) {
  AddressPolicy loop;
  loop.allow_loopback = true;
  EXPECT_EQ(Why("127.0.0.1", loop), "");
  EXPECT_EQ(Why("::1", loop), "");
  EXPECT_EQ(Why("::ffff:127.0.0.1", loop), "");
  EXPECT_NE(Why("10.0.0.1", loop), "");
  AddressPolicy priv;
  priv.allow_private = true;
  EXPECT_EQ(Why("10.0.0.1", priv), "");
  EXPECT_EQ(Why("fd12:3456::1", priv), "") << "unique-local is a private network";
  EXPECT_NE(Why("127.0.0.1", priv), "");
}

// Every form below reaches a refused IPv4 address (or a metadata service) through IPv6.
TEST(AddressPolicyTest, RefusesEveryIpv6FormThatEmbedsARefusedAddress) {
  struct Case {
    const char* ip;
    const char* form;
  };
  for (const Case& c : {
           Case{"::ffff:10.0.0.1", "IPv4-mapped"},
           Case{"::ffff:169.254.169.254", "IPv4-mapped metadata"},
           Case{"::127.0.0.1", "IPv4-compatible"},
           Case{"::10.0.0.1", "IPv4-compatible"},
           Case{"::ffff:0:127.0.0.1", "SIIT"},
           Case{"64:ff9b::7f00:1", "NAT64 of 127.0.0.1"},
           Case{"64:ff9b::a9fe:a9fe", "NAT64 of the metadata address"},
           Case{"64:ff9b:1::a00:1", "local-use NAT64 of 10.0.0.1"},
           Case{"2002:7f00:1::1", "6to4 of 127.0.0.1"},
           Case{"2002:a9fe:a9fe::1", "6to4 of the metadata address"},
           Case{"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo of 127.0.0.1"},
       }) {
    EXPECT_NE(Why(c.ip), "") << c.form << " " << c.ip;
  }
}

TEST(AddressPolicyTest, TransitionFormsOfPublicAddressesNeedAllowPrivate) {
  EXPECT_NE(Why("64:ff9b::808:808"), "") << "NAT64 goes through a relay";
  EXPECT_NE(Why("2002:808:808::1"), "");
  AddressPolicy priv;
  priv.allow_private = true;
  EXPECT_EQ(Why("64:ff9b::808:808", priv), "");
}

TEST(AddressPolicyTest, MetadataAndLinkLocalStayRefusedWhateverTheSwitchesSay) {
  for (const char* ip : {"169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254",
                         "fe80::1", "169.254.1.1", "64:ff9b::a9fe:a9fe"}) {
    EXPECT_NE(Why(ip, Open()), "") << ip;
  }
}

TEST(AddressPolicyTest, RefusesThisMachinesOwnAddresses) {
  AddressPolicy p;
  p.own = {boost::asio::ip::make_address("8.8.4.4"), boost::asio::ip::make_address("2606::5"),
           boost::asio::ip::make_address("127.0.0.1")};
  EXPECT_NE(Why("8.8.4.4", p), "") << "a public address of this machine";
  EXPECT_NE(Why("::ffff:8.8.4.4", p), "") << "and its mapped form";
  EXPECT_NE(Why("2606::5", p), "");
  EXPECT_EQ(Why("8.8.8.8", p), "");
  p.allow_loopback = true;
  EXPECT_EQ(Why("127.0.0.1", p), "") << "loopback follows allow_loopback";
}

TEST(AddressPolicyTest, FindsThisMachinesInterfaceAddresses) {
  auto own = LocalInterfaceAddresses();
  bool loopback = false;
  for (const auto& a : own) loopback |= a.is_loopback();
  EXPECT_TRUE(loopback) << "every machine has a loopback interface";
}

}  // namespace
}  // namespace bluegate::net
