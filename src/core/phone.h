// Phone-number checks for the API: E.164 normalisation through libphonenumber (cached, since a
// parse costs ~15 µs) and the blocklist of emergency and special numbers.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.h"

namespace bluegate {

class PhoneNumbers {
 public:
  // `blocked` is the operator's blocklist (E.164 or short codes); emergency numbers are always
  // blocked.
  explicit PhoneNumbers(const std::vector<std::string>& blocked = {});

  // Normalises `input` to E.164 ("+14155550100"). Accepts a leading '+' followed by digits, with
  // spaces, dashes, dots and parentheses ignored. `field` names the field in error messages.
  // kBlocked (error_code 4002) for emergency, special and operator-blocked numbers;
  // kInvalidArgument (4000) for anything that is not a valid number. Thread-safe.
  Result<std::string> Normalize(std::string_view input, std::string_view field) const;

 private:
  Result<std::string> NormalizeUncached(std::string_view input, std::string_view field) const;
  bool IsBlocked(std::string_view digits) const;

  std::unordered_set<std::string> blocked_digits_;
};

}  // namespace bluegate
