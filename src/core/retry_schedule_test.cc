#include "core/retry_schedule.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

using namespace std::chrono;

TEST(RetryScheduleTest, DefaultIsTheSpecSchedule) {
  const RetrySchedule s = RetrySchedule::Default();
  const TimePoint t0 = FromUnixMillis(1'000'000);
  EXPECT_EQ(s.NextAttempt(0, t0), t0);  // immediately
  EXPECT_EQ(s.NextAttempt(1, t0), t0 + seconds(5));
  EXPECT_EQ(s.NextAttempt(2, t0), t0 + minutes(5));
  EXPECT_EQ(s.NextAttempt(3, t0), t0 + minutes(30));
  EXPECT_EQ(s.NextAttempt(4, t0), t0 + hours(2));
  EXPECT_EQ(s.NextAttempt(5, t0), t0 + hours(5));
  EXPECT_EQ(s.NextAttempt(6, t0), t0 + hours(10));
  EXPECT_EQ(s.NextAttempt(7, t0), t0 + hours(10));
  EXPECT_EQ(s.NextAttempt(8, t0), std::nullopt) << "eight attempts, then it gives up";
}

TEST(RetryScheduleTest, RetryAfterWinsWhenLongerAndIsCappedAtTheLongestDelay) {
  const RetrySchedule s({Millis(0), seconds(5), minutes(1)});
  const TimePoint t0 = FromUnixMillis(0);
  EXPECT_EQ(s.NextAttempt(1, t0, seconds(30)), t0 + seconds(30));
  EXPECT_EQ(s.NextAttempt(1, t0, seconds(1)), t0 + seconds(5))
      << "shorter Retry-After: the schedule";
  EXPECT_EQ(s.NextAttempt(1, t0, hours(9)), t0 + minutes(1));
}

}  // namespace
}  // namespace bluegate
