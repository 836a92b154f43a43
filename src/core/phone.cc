#include "core/phone.h"

#include <phonenumbers/phonenumberutil.h>
#include <phonenumbers/shortnumberinfo.h>

#include <unordered_map>

namespace bluegate {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Emergency and crisis short codes across the main regions; always refused (4002).
constexpr std::string_view kEmergency[] = {"911", "112", "999", "000", "110", "118",
                                           "119", "988", "933", "08",  "111", "100"};

std::string DigitsOnly(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

Error BlockedError(std::string_view field, std::string_view input) {
  return Error{
      ErrorKind::kBlocked,
      std::string(field) + " " + std::string(input) +
          " is blacklisted: emergency, special and blocked numbers cannot receive messages",
      ErrorCode::kBlacklisted,
      {}};
}

}  // namespace

PhoneNumbers::PhoneNumbers(const std::vector<std::string>& blocked) {
  for (const auto& b : blocked) {
    std::string d = DigitsOnly(b);
    if (!d.empty()) blocked_digits_.insert(std::move(d));
  }
}

bool PhoneNumbers::IsBlocked(std::string_view digits) const {
  for (auto e : kEmergency) {
    if (digits == e) return true;
    // "+1911", "+44999": a country code in front of a short code.
    if (digits.size() > e.size() && digits.size() <= e.size() + 3 && digits.ends_with(e)) {
      return true;
    }
  }
  return blocked_digits_.contains(std::string(digits));
}

Result<std::string> PhoneNumbers::Normalize(std::string_view input, std::string_view field) const {
  // A bounded per-thread cache of valid, unblocked numbers: the API threads see the same numbers
  // over and over. Entries remember which PhoneNumbers (blocklist) admitted them.
  struct Entry {
    const PhoneNumbers* owner;
    std::string e164;
  };
  thread_local std::unordered_map<std::string, Entry> cache;
  thread_local std::string key;
  key.assign(input.data(), input.size());
  if (auto it = cache.find(key); it != cache.end() && it->second.owner == this)
    return it->second.e164;
  auto result = NormalizeUncached(input, field);
  if (result.ok()) {
    if (cache.size() > 100'000) cache.clear();
    cache.insert_or_assign(key, Entry{this, result.value()});
  }
  return result;
}

Result<std::string> PhoneNumbers::NormalizeUncached(std::string_view input,
                                                    std::string_view field) const {
  const std::string f(field);
  if (input.empty()) return Error::Invalid(f + " is required");
  if (input.size() > 32) return Error::Invalid(f + " is too long to be a phone number");
  std::string cleaned;
  for (char c : input) {
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    cleaned.push_back(c);
  }
  const std::string digits = DigitsOnly(cleaned);
  if (!digits.empty() && IsBlocked(digits)) return BlockedError(field, input);
  if (cleaned.empty() || cleaned[0] != '+' || digits.size() + 1 != cleaned.size()) {
    return Error::Invalid(f +
                          " must be a phone number in E.164 format, such as +14155550100; got \"" +
                          std::string(input) + "\"");
  }
  auto* util = PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util->Parse(cleaned, "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !util->IsValidNumber(parsed)) {
    return Error::Invalid(f + " " + std::string(input) + " is not a valid phone number");
  }
  std::string e164;
  util->Format(parsed, PhoneNumberUtil::E164, &e164);
  if (IsBlocked(DigitsOnly(e164))) return BlockedError(field, input);
  return e164;
}

}  // namespace bluegate
