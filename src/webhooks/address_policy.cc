#include "webhooks/address_policy.h"

namespace bluegate::webhooks {

std::string RefusalReason(const boost::asio::ip::address& input, const AddressPolicy& policy) {
  boost::asio::ip::address addr = input;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = addr.to_v6().to_v4();
  }
  if (addr.is_v4()) {
    const uint32_t a = addr.to_v4().to_uint();
    auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    if (in(0x7F000000, 8)) return policy.allow_loopback ? "" : "loopback address";
    if (in(0xA9FE0000, 16)) return "link-local or cloud metadata address";  // 169.254/16
    if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
      return policy.allow_private ? "" : "private address";
    }
    if (in(0x00000000, 8) || in(0xE0000000, 4) || in(0xF0000000, 4) || a == 0xFFFFFFFF) {
      return "reserved, multicast or unspecified address";
    }
    return "";
  }
  const auto v6 = addr.to_v6();
  if (v6.is_loopback()) return policy.allow_loopback ? "" : "loopback address";
  if (v6.is_unspecified() || v6.is_multicast()) return "reserved, multicast or unspecified address";
  const auto bytes = v6.to_bytes();
  if (v6.is_link_local()) return policy.allow_private ? "" : "link-local address";
  if ((bytes[0] & 0xFE) == 0xFC) return policy.allow_private ? "" : "private address";  // fc00::/7
  if (bytes[0] == 0xFD && bytes[1] == 0x00 && bytes[2] == 0x0E && bytes[3] == 0xC2) {
    return "cloud metadata address";
  }
  return "";
}

}  // namespace bluegate::webhooks
