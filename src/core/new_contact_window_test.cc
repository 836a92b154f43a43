#include "core/new_contact_window.h"

#include <gtest/gtest.h>

#include <limits>

#include "testing/manual_clock.h"

namespace bluegate {
namespace {

using namespace std::chrono;

TimePoint At(const char* iso) { return *ParseIso8601(iso); }

TEST(NewYorkDayTest, TheDayStartsAtThreeInTheMorningEasternStandardTime) {
  EXPECT_EQ(DayStartAtOrBefore(At("2026-01-15T07:59:59.999Z")), At("2026-01-14T08:00:00.000Z"));
  EXPECT_EQ(DayStartAtOrBefore(At("2026-01-15T08:00:00.000Z")), At("2026-01-15T08:00:00.000Z"));
  EXPECT_EQ(NextDayStart(At("2026-01-15T08:00:00.000Z")), At("2026-01-16T08:00:00.000Z"));
}

TEST(NewYorkDayTest, InSummerItIsThreeInTheMorningDaylightTime) {
  EXPECT_EQ(DayStartAtOrBefore(At("2026-07-01T07:00:00.000Z")), At("2026-07-01T07:00:00.000Z"));
  EXPECT_EQ(DayStartAtOrBefore(At("2026-07-01T06:59:59.999Z")), At("2026-06-30T07:00:00.000Z"));
  EXPECT_EQ(NewYorkOffset(At("2026-07-01T12:00:00.000Z")), hours(-4));
  EXPECT_EQ(NewYorkOffset(At("2026-12-01T12:00:00.000Z")), hours(-5));
}

TEST(NewYorkDayTest, TheSpringForwardDayHasTwentyThreeHours) {
  // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
  EXPECT_EQ(DayStartAtOrBefore(At("2026-03-08T06:59:59.999Z")), At("2026-03-07T08:00:00.000Z"));
  EXPECT_EQ(DayStartAtOrBefore(At("2026-03-08T07:00:00.000Z")), At("2026-03-08T07:00:00.000Z"));
  EXPECT_EQ(NextDayStart(At("2026-03-07T12:00:00.000Z")) - At("2026-03-07T08:00:00.000Z"),
            hours(23));
}

TEST(NewYorkDayTest, TheFallBackDayHasTwentyFiveHours) {
  // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
  EXPECT_EQ(DayStartAtOrBefore(At("2026-11-01T07:59:59.999Z")), At("2026-10-31T07:00:00.000Z"));
  EXPECT_EQ(DayStartAtOrBefore(At("2026-11-01T08:00:00.000Z")), At("2026-11-01T08:00:00.000Z"));
  EXPECT_EQ(NextDayStart(At("2026-10-31T12:00:00.000Z")) - At("2026-10-31T07:00:00.000Z"),
            hours(25));
}

TEST(NewContactWindowTest, FifteenAnHourThenTheNextWaitsForTheOldestToLeave) {
  testing::ManualClock clock(At("2026-01-15T14:00:00.000Z"));
  NewContactWindow w(NewContactLimits{});
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(w.TryTake(clock.Now())) << i;
    clock.Advance(minutes(1));
  }
  EXPECT_FALSE(w.TryTake(clock.Now()));
  EXPECT_EQ(w.NextSlot(clock.Now()), At("2026-01-15T15:00:00.000Z"));
  const auto hourly = w.Hourly(clock.Now());
  EXPECT_EQ(hourly.used, 15);
  EXPECT_EQ(hourly.remaining, 0);
  EXPECT_EQ(hourly.resets_at, At("2026-01-15T15:00:00.000Z"));
  clock.Set(At("2026-01-15T15:00:00.000Z"));
  EXPECT_TRUE(w.TryTake(clock.Now()));
}

TEST(NewContactWindowTest, FiftyADayThenTheNextWaitsForThreeInTheMorning) {
  testing::ManualClock clock(At("2026-01-15T09:00:00.000Z"));  // 04:00 EST
  NewContactWindow w(NewContactLimits{});
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(w.TryTake(clock.Now())) << i;
    clock.Advance(minutes(5));  // 12 an hour: under the hourly limit
  }
  EXPECT_FALSE(w.TryTake(clock.Now()));
  EXPECT_EQ(w.NextSlot(clock.Now()), At("2026-01-16T08:00:00.000Z"));
  const auto daily = w.Daily(clock.Now());
  EXPECT_EQ(daily.used, 50);
  EXPECT_EQ(daily.limit, 50);
  EXPECT_EQ(daily.resets_at, At("2026-01-16T08:00:00.000Z"));
  clock.Set(At("2026-01-16T07:59:59.999Z"));
  EXPECT_FALSE(w.TryTake(clock.Now()));
  clock.Set(At("2026-01-16T08:00:00.000Z"));
  EXPECT_TRUE(w.TryTake(clock.Now()));
}

TEST(NewContactWindowTest, TheDailyResetFollowsDaylightSavingTime) {
  // The day before spring-forward is full; the next slot is 03:00 EDT, an hour "early" in UTC.
  testing::ManualClock clock(At("2026-03-07T10:00:00.000Z"));
  NewContactWindow w(NewContactLimits{5, 15});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w.TryTake(clock.Now()));
  EXPECT_EQ(w.NextSlot(clock.Now()), At("2026-03-08T07:00:00.000Z"));
}

TEST(NewContactWindowTest, StartsFromBeforeARestartStillCount) {
  testing::ManualClock clock(At("2026-01-15T14:00:00.000Z"));
  NewContactWindow w(NewContactLimits{3, 2});
  w.Seed({clock.Now() - minutes(90), clock.Now() - minutes(30), clock.Now() - minutes(10)});
  EXPECT_EQ(w.Daily(clock.Now()).used, 3);
  EXPECT_EQ(w.Hourly(clock.Now()).used, 2);
  EXPECT_EQ(w.Remaining(clock.Now()), 0);
  EXPECT_FALSE(w.TryTake(clock.Now()));
  w.SetLimits(NewContactLimits{10, 5});
  EXPECT_EQ(w.Remaining(clock.Now()), 3) << "new limits; the started contacts still count";
  w.SetLimits(NewContactLimits{0, 0});
  EXPECT_EQ(w.Remaining(clock.Now()), std::numeric_limits<int>::max());
}

TEST(NewContactWindowTest, ZeroMeansNoLimit) {
  testing::ManualClock clock;
  NewContactWindow w(NewContactLimits{0, 0});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.TryTake(clock.Now()));
}

}  // namespace
}  // namespace bluegate
