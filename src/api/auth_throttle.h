// Throttles guessing of API secrets: after `max_failures` failed authentications within a minute
// from one client address with one key id, that pair is answered 429 (with when to retry) without
// the secret being checked, until the minute that began with its first failure is over. Other
// addresses and other key ids are not affected. Memory is bounded: at most `max_tracked` pairs
// are remembered (expired ones are dropped first). Thread-safe; time from the injected clock.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace bluegate::api {

class AuthThrottle {
 public:
  AuthThrottle(Clock& clock, int max_failures, size_t max_tracked = 100'000)
      : clock_(clock), max_failures_(max_failures), max_tracked_(max_tracked) {}

  // How long the pair must wait, or nullopt when it may try.
  std::optional<Millis> Blocked(std::string_view address, std::string_view key_id);
  // Records a failed authentication of the pair.
  void Failed(std::string_view address, std::string_view key_id);

 private:
  static constexpr Millis kWindow{60'000};
  struct Window {
    TimePoint start;
    int failures = 0;
  };
  static std::string Key(std::string_view address, std::string_view key_id);
  void DropExpired(TimePoint now);

  Clock& clock_;
  const int max_failures_;
  const size_t max_tracked_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace bluegate::api
