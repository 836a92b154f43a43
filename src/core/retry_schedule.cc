#include "core/retry_schedule.h"

#include <algorithm>

namespace bluegate {

RetrySchedule::RetrySchedule(std::vector<Millis> delays) : delays_(std::move(delays)) {
  if (delays_.empty()) delays_.push_back(Millis(0));
}

RetrySchedule RetrySchedule::Default() {
  using namespace std::chrono;
  return RetrySchedule(
      {Millis(0), seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(10)});
}

std::optional<TimePoint> RetrySchedule::NextAttempt(int attempts_made, TimePoint failed_at,
                                                    std::optional<Millis> retry_after) const {
  if (attempts_made >= max_attempts()) return std::nullopt;
  Millis delay = delays_[static_cast<size_t>(attempts_made)];
  if (retry_after && *retry_after > delay) {
    delay = std::min(*retry_after, *std::max_element(delays_.begin(), delays_.end()));
  }
  return failed_at + delay;
}

}  // namespace bluegate
