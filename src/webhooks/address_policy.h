// Which addresses webhooks may be sent to (SPEC.md §5 "Safety"): loopback, private, link-local,
// metadata and other special ranges are refused unless the operator allows them.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>

namespace bluegate::webhooks {

struct AddressPolicy {
  bool allow_loopback = false;  // 127.0.0.0/8, ::1 (the local development profile allows these)
  bool allow_private = false;   // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, link-local
};

// Empty when `addr` may be connected to, else the reason it may not ("loopback address").
std::string RefusalReason(const boost::asio::ip::address& addr, const AddressPolicy& policy);

}  // namespace bluegate::webhooks
