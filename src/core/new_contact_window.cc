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
  return static_cast<int>(
      std::count_if(starts_.begin(), starts_.end(), [since](TimePoint s) { return s >= since; }));
}

void NewContactWindow::Seed(const std::vector<TimePoint>& starts) {
  for (TimePoint t : starts) {
    if (starts_.empty() || t >= starts_.back()) starts_.push_back(t);
  }
}

int NewContactWindow::Remaining(TimePoint now) const {
  int remaining = std::numeric_limits<int>::max();
  if (limits_.per_day > 0) {
    remaining = std::min(remaining, limits_.per_day - CountSince(DayStartAtOrBefore(now)));
  }
  if (limits_.per_hour > 0) {
    remaining = std::min(remaining, limits_.per_hour - CountSince(now - std::chrono::hours(1)));
  }
  return std::max(0, remaining);
}

bool NewContactWindow::TryTake(TimePoint now) {
  Prune(now);
  if (NextSlot(now) > now) return false;
  starts_.push_back(now);
  return true;
}

TimePoint NewContactWindow::NextSlot(TimePoint now) const {
  TimePoint at = now;
  if (limits_.per_day > 0 && CountSince(DayStartAtOrBefore(now)) >= limits_.per_day) {
    at = NextDayStart(now);
  }
  if (limits_.per_hour <= 0) return at;
  // In the rolling hour ending at `at`, a slot opens when the oldest start that fills it leaves.
  const TimePoint window_start = at - hours(1);
  std::vector<TimePoint> in_hour;
  for (TimePoint s : starts_) {
    if (s > window_start) in_hour.push_back(s);
  }
  if (static_cast<int>(in_hour.size()) >= limits_.per_hour) {
    at = std::max(at, in_hour[in_hour.size() - static_cast<size_t>(limits_.per_hour)] + hours(1));
  }
  return at;
}

NewContactWindow::Usage NewContactWindow::Daily(TimePoint now) const {
  Usage u;
  u.limit = limits_.per_day;
  u.used = CountSince(DayStartAtOrBefore(now));
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
