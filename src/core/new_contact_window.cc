#include "core/new_contact_window.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace bluegate {
namespace {

using namespace std::chrono;

constexpr Millis kEdt = hours(-4);
constexpr Millis kEst = hours(-5);

// DST runs from 02:00 EST (07:00 UTC) on the second Sunday of March to 02:00 EDT (06:00 UTC) on
// the first Sunday of November.
bool IsDst(TimePoint t) {
  const year y = year_month_day(floor<days>(t)).year();
  const TimePoint start = TimePoint(sys_days(y / March / Sunday[2]) + hours(7));
  const TimePoint end = TimePoint(sys_days(y / November / Sunday[1]) + hours(6));
  return t >= start && t < end;
}

// 03:00 New York time on the local date `d`, in UTC. 03:00 exists exactly once on every date:
// the changes happen at 02:00.
TimePoint ThreeAm(sys_days d) {
  const TimePoint local = TimePoint(d + hours(3));
  const TimePoint if_edt = local - kEdt;
  return IsDst(if_edt) ? if_edt : local - kEst;
}

}  // namespace

Millis NewYorkOffset(TimePoint t) { return IsDst(t) ? kEdt : kEst; }

TimePoint DayStartAtOrBefore(TimePoint t) {
  const sys_days local_date = floor<days>(t + NewYorkOffset(t));
  const TimePoint today = ThreeAm(local_date);
  return today <= t ? today : ThreeAm(local_date - days(1));
}

TimePoint NextDayStart(TimePoint t) {
  const sys_days local_date =
      floor<days>(DayStartAtOrBefore(t) + NewYorkOffset(DayStartAtOrBefore(t)));
  return ThreeAm(local_date + days(1));
}

void NewContactWindow::Prune(TimePoint now) {
  while (!starts_.empty() && starts_.front() < now - hours(25)) starts_.pop_front();
}

int NewContactWindow::CountSince(TimePoint since) const {
  return static_cast<int>(starts_.end() - std::lower_bound(starts_.begin(), starts_.end(), since));
}

TimePoint NewContactWindow::DayStart(TimePoint now) const {
  // The New York day changes twice a day at most per DST rule: cache the current one.
  if (now < day_start_ || now >= next_day_start_) {
    day_start_ = DayStartAtOrBefore(now);
    next_day_start_ = NextDayStart(now);
  }
  return day_start_;
}

void NewContactWindow::Seed(const std::vector<TimePoint>& starts) {
  for (TimePoint t : starts) {
    if (starts_.empty() || t >= starts_.back()) starts_.push_back(t);
  }
}

int NewContactWindow::Remaining(TimePoint now) const {
  int remaining = std::numeric_limits<int>::max();
  if (limits_.per_day > 0) {
    remaining = std::min(remaining, limits_.per_day - CountSince(DayStart(now)));
  }
  if (limits_.per_hour > 0) {
    remaining = std::min(remaining, limits_.per_hour - CountSince(now - std::chrono::hours(1)));
  }
  return std::max(0, remaining);
}

bool NewContactWindow::TryTake(TimePoint now) {
  Prune(now);
  if (NextSlot(now) > now) return false;
  // Kept in time order (binary searches count them); a clock that stepped back inserts.
  if (starts_.empty() || now >= starts_.back()) {
    starts_.push_back(now);
  } else {
    starts_.insert(std::upper_bound(starts_.begin(), starts_.end(), now), now);
  }
  return true;
}

TimePoint NewContactWindow::NextSlot(TimePoint now) const {
  TimePoint at = now;
  if (limits_.per_day > 0 && CountSince(DayStart(now)) >= limits_.per_day) {
    DayStart(now);
    at = next_day_start_;
  }
  if (limits_.per_hour <= 0) return at;
  // In the rolling hour ending at `at`, a slot opens when the oldest start that fills it leaves;
  // the starts in that hour are the tail of `starts_`.
  const TimePoint window_start = at - hours(1);
  const size_t in_hour = static_cast<size_t>(
      starts_.end() - std::upper_bound(starts_.begin(), starts_.end(), window_start));
  const auto per_hour = static_cast<size_t>(limits_.per_hour);
  if (in_hour >= per_hour) at = std::max(at, starts_[starts_.size() - per_hour] + hours(1));
  return at;
}

NewContactWindow::Usage NewContactWindow::Daily(TimePoint now) const {
  Usage u;
  u.limit = limits_.per_day;
  u.used = CountSince(DayStart(now));
  u.remaining = std::max(0, u.limit - u.used);
  u.resets_at = NextDayStart(now);
  u.next_slot_at = NextSlot(now);
  return u;
}

NewContactWindow::Usage NewContactWindow::Hourly(TimePoint now) const {
  Usage u;
  u.limit = limits_.per_hour;
  const TimePoint window_start = now - hours(1);
  TimePoint oldest = now;
  for (TimePoint s : starts_) {
    if (s > window_start) {
      ++u.used;
      oldest = std::min(oldest, s);
    }
  }
  u.remaining = std::max(0, u.limit - u.used);
  u.resets_at = u.used > 0 ? oldest + hours(1) : now;
  u.next_slot_at = NextSlot(now);
  return u;
}

}  // namespace bluegate
