// When to try a failed webhook delivery again (SPEC.md §5). Pure, so the schedule is tested without
// waiting hours.
#pragma once

#include <optional>
#include <vector>

#include "core/clock.h"

namespace bluegate {

class RetrySchedule {
 public:
  // delays[i] is the wait before attempt i+1 (attempt 1 is the first try; the default's first
  // delay is 0: "immediately").
  explicit RetrySchedule(std::vector<Millis> delays);
  static RetrySchedule Default();  // 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h

  // After `attempts_made` failed attempts, when the next one is due, or nullopt when the schedule
  // is exhausted. A receiver's Retry-After wins when it asks for longer than the schedule, capped
  // at the longest delay of the schedule so one answer cannot park a delivery forever.
  std::optional<TimePoint> NextAttempt(int attempts_made, TimePoint failed_at,
                                       std::optional<Millis> retry_after = std::nullopt) const;
  int max_attempts() const { return static_cast<int>(delays_.size()); }
  const std::vector<Millis>& delays() const { return delays_; }

 private:
  std::vector<Millis> delays_;
};

}  // namespace bluegate
