#include "core/error_code.h"

#include <charconv>

namespace bluegate {

std::string ErrorCodeToString(ErrorCode code) {
  if (code == ErrorCode::kSmsLimitReached) return "SMS_LIMIT_REACHED";
  return std::to_string(static_cast<int>(code));
}

std::optional<ErrorCode> ErrorCodeFromString(std::string_view text) {
  if (text == "SMS_LIMIT_REACHED") return ErrorCode::kSmsLimitReached;
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  switch (n) {
    case 4000:
    case 4001:
    case 4002:
    case 5000:
    case 5003:
    case 5509:
    case 10001:
    case 10002:
      return static_cast<ErrorCode>(n);
    default:
      return std::nullopt;
  }
}

}  // namespace bluegate
