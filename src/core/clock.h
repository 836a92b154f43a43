// Time as the gateway sees it. Everything that reads the time takes a Clock&, so tests drive it
// with testing::ManualClock and never sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bluegate {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Millis>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The process-wide wall clock. Thread-safe.
Clock& SystemClock();

inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

// "2025-12-12T15:35:35.410Z".
std::string FormatIso8601(TimePoint t);
std::optional<TimePoint> ParseIso8601(std::string_view text);

// "250ms", "5s", "5m", "2h", "1500" (milliseconds). Used by config for durations.
std::optional<Millis> ParseDuration(std::string_view text);

}  // namespace bluegate
