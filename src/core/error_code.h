// The wire `error_code` values of SPEC.md §3.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bluegate {

enum class ErrorCode {
  kValidation = 4000,
  kRateLimitExceeded = 4001,
  kBlacklisted = 4002,
  kInternal = 5000,
  kServerRateExceeded = 5003,
  kLineRateWindowExceeded = 5509,
  kFailedToSend = 10001,
  kFailedToResolve = 10002,
  kSmsLimitReached = -1,  // rendered as the string "SMS_LIMIT_REACHED"
};

// "4000", "10001", "SMS_LIMIT_REACHED": the stored form.
std::string ErrorCodeToString(ErrorCode code);
std::optional<ErrorCode> ErrorCodeFromString(std::string_view text);

}  // namespace bluegate
