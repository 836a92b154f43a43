// Which addresses webhooks and media fetches may connect to (SPEC.md §5 "Safety"): loopback,
// private, link-local, unique-local, metadata and other special ranges are refused unless the
// operator allows them, and so is every IPv6 form that embeds or reaches a refused IPv4 address
// (IPv4-mapped and -compatible, NAT64, 6to4, Teredo). Cloud metadata addresses and this machine's
// own interface addresses are refused whatever the switches say. The check runs on the address
// actually connected to (after DNS), so rebinding a name cannot get around it.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>
#include <vector>

namespace bluegate::net {

struct AddressPolicy {
  bool allow_loopback = false;  // 127.0.0.0/8, ::1 (the local development profile allows these)
  bool allow_private = false;   // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fe80::/10
  // This machine's own addresses (refused unless they are loopback and allow_loopback).
  std::vector<boost::asio::ip::address> own;
};

// Empty when `addr` may be connected to, else the reason it may not ("loopback address").
std::string RefusalReason(const boost::asio::ip::address& addr, const AddressPolicy& policy);

// The addresses of this machine's network interfaces (getifaddrs), for AddressPolicy::own.
std::vector<boost::asio::ip::address> LocalInterfaceAddresses();

}  // namespace bluegate::net
