#include "api/request_id.h"

#include <atomic>
#include <cstdint>

#include "core/ids.h"

namespace bluegate::api {

bool IsSafeRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RequestIdFor(std::optional<std::string_view> given) {
  if (given && IsSafeRequestId(*given)) return std::string(*given);
  // A random prefix per process, then a counter: unique without a call to the CSPRNG per
  // request (an id names a request; it guards nothing).
  static const std::string prefix = SecureIds().RandomHex(4);
  static std::atomic<uint32_t> next{0};
  std::string id = prefix;
  id.resize(16);
  uint32_t n = next.fetch_add(1, std::memory_order_relaxed);
  for (int i = 15; i >= 8; --i, n >>= 4) id[i] = "0123456789abcdef"[n & 0xf];
  return id;
}

}  // namespace bluegate::api
