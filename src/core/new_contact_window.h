// Sendblue's per-line pacing of new contacts (SPEC.md §6): at most `per_day` new contacts per day,
// the day starting at 03:00 America/New_York (daylight saving time included), and at most
// `per_hour` in any rolling hour. Pure arithmetic on injected times; owned by one line's strand.
#pragma once

#include <deque>
#include <vector>

#include "core/clock.h"

namespace bluegate {

struct NewContactLimits {
  int per_day = 50;   // <= 0: no daily limit
  int per_hour = 15;  // <= 0: no hourly limit
};

// A contact is new to a line again after this long without a message either way.
inline constexpr Millis kNewContactAfter{std::chrono::hours(24 * 30)};

// US Eastern time by the rules in force since 2007 (EDT from the second Sunday of March, 02:00,
// to the first Sunday of November, 02:00). Offset from UTC at `t`: -4 h or -5 h.
Millis NewYorkOffset(TimePoint t);
// The latest 03:00 New York time at or before `t`, and the first one after it.
TimePoint DayStartAtOrBefore(TimePoint t);
TimePoint NextDayStart(TimePoint t);

class NewContactWindow {
 public:
  explicit NewContactWindow(const NewContactLimits& limits) : limits_(limits) {}

  // New limits; the contacts already started still count.
  void SetLimits(const NewContactLimits& limits) { limits_ = limits; }
  // Counts contacts started before this window existed (oldest first), as after a restart.
  void Seed(const std::vector<TimePoint>& starts);
  // How many more new contacts may start at `now` under both limits (INT_MAX: unlimited).
  int Remaining(TimePoint now) const;

  // Counts a new contact started at `now` if both limits allow it.
  bool TryTake(TimePoint now);
  // The earliest time a new contact may start (`now` if one may).
  TimePoint NextSlot(TimePoint now) const;

  struct Usage {
    int used = 0;
    int limit = 0;
    int remaining = 0;
    TimePoint next_slot_at{};  // when one more becomes available (now, if any remain)
    TimePoint resets_at{};  // the daily window: next 03:00 New York; hourly: when the oldest leaves
  };
  Usage Daily(TimePoint now) const;
  Usage Hourly(TimePoint now) const;

 private:
  int CountSince(TimePoint since) const;
  TimePoint DayStart(TimePoint now) const;
  void Prune(TimePoint now);

  NewContactLimits limits_;
  std::deque<TimePoint> starts_;  // new contacts started, oldest first (pruned past 25 h)
  mutable TimePoint day_start_{}, next_day_start_{};  // the current New York day, cached
};

}  // namespace bluegate
