#include "net/address_policy.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <optional>

namespace bluegate::net {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

std::string ForV4(uint32_t a, const AddressPolicy& policy) {
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  // 169.254.169.254 (AWS, GCP, Azure, OpenStack), 169.254.170.2 (ECS), 100.100.100.200
  // (Alibaba): never, whatever the switches say.
  if (a == 0xA9FEA9FE || a == 0xA9FEAA02 || a == 0x646464C8) return "cloud metadata address";
  if (in(0x7F000000, 8)) return policy.allow_loopback ? "" : "loopback address";
  // 169.254/16: link-local, where metadata services live; never a webhook receiver.
  if (in(0xA9FE0000, 16)) return "link-local address";
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
    return policy.allow_private ? "" : "private address";
  }
  if (in(0x00000000, 8) || in(0xE0000000, 4) || in(0xF0000000, 4) || in(0xC0000200, 24) ||
      in(0xC6336400, 24) || in(0xCB007100, 24) || in(0xC6120000, 15)) {
    // this network, multicast, reserved and broadcast, documentation, benchmarking
    return "reserved, multicast or unspecified address";
  }
  if (in(0xC0000000, 24)) return "reserved address";  // 192.0.0.0/24, IETF protocol assignments
  return "";
}

// The IPv4 address an IPv6 address carries to an IPv4 host, when it is one of the forms that do.
std::optional<uint32_t> EmbeddedV4(const address_v6::bytes_type& b) {
  auto v4at = [&b](size_t i) {
    return (uint32_t(b[i]) << 24) | (uint32_t(b[i + 1]) << 16) | (uint32_t(b[i + 2]) << 8) |
           uint32_t(b[i + 3]);
  };
  auto zero = [&b](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (b[i] != 0) return false;
    }
    return true;
  };
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d (SIIT).
  if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return v4at(12);
  if (zero(0, 12)) return v4at(12);
  if (zero(0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) return v4at(12);
  // NAT64: 64:ff9b::/96 and the local-use 64:ff9b:1::/48 (address in the last 32 bits).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (zero(4, 12)) return v4at(12);
    if (b[4] == 0x00 && b[5] == 0x01) return v4at(12);
  }
  // 6to4: 2002:a.b.c.d::/48.
  if (b[0] == 0x20 && b[1] == 0x02) return v4at(2);
  // Teredo: 2001:0::/32; the client's address is the last 32 bits, inverted.
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return ~v4at(12);
  return std::nullopt;
}

std::string ForV6(const address_v6& v6, const AddressPolicy& policy) {
  const auto b = v6.to_bytes();
  // fd00:ec2::254 (AWS's IPv6 metadata service).
  static const auto kAwsMetadata = boost::asio::ip::make_address_v6("fd00:ec2::254").to_bytes();
  if (b == kAwsMetadata) return "cloud metadata address";
  if (v6.is_loopback()) return policy.allow_loopback ? "" : "loopback address";
  if (v6.is_unspecified() || v6.is_multicast()) return "reserved, multicast or unspecified address";
  if (auto v4 = EmbeddedV4(b)) {
    std::string why = ForV4(*v4, policy);
    // An IPv4-embedding form is refused as its IPv4 address would be; for the translation
    // forms (NAT64, 6to4, Teredo) even a public address is reached through a relay the
    // operator did not name, so they stay refused unless private targets are allowed.
    const bool mapped = b[10] == 0xff && b[11] == 0xff;
    if (!why.empty()) return why + " (embedded in an IPv6 address)";
    if (!mapped && !policy.allow_private) return "IPv6 transition address (NAT64, 6to4 or Teredo)";
    return "";
  }
  if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)) {
    return "link-local address";  // fe80::/10, fec0::/10 (site-local): never a webhook receiver
  }
  if ((b[0] & 0xfe) == 0xfc) return policy.allow_private ? "" : "unique-local address";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "documentation address";
  if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 &&
      b[6] == 0 && b[7] == 0) {
    return "discard-only address";  // 100::/64
  }
  return "";
}

}  // namespace

std::string RefusalReason(const address& input, const AddressPolicy& policy) {
  // Loopback addresses are the loopback rule's to decide.
  for (const auto& own : policy.own) {
    if (own == input && !own.is_loopback()) return "address of this machine";
  }
  if (input.is_v4()) return ForV4(input.to_v4().to_uint(), policy);
  const auto v6 = input.to_v6();
  // Compare this machine's IPv4 addresses with the one a mapped address carries.
  if (auto v4 = EmbeddedV4(v6.to_bytes()); v4 && !policy.own.empty()) {
    const address as_v4 = address_v4(*v4);
    for (const auto& own : policy.own) {
      if (own == as_v4 && !own.is_loopback()) return "address of this machine";
    }
  }
  return ForV6(v6, policy);
}

std::vector<address> LocalInterfaceAddresses() {
  std::vector<address> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(address_v4(ntohl(sin->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), sin6->sin6_addr.s6_addr, 16);
      out.push_back(address_v6(bytes));
    }
  }
  freeifaddrs(list);
  return out;
}

}  // namespace bluegate::net
