#include "api/auth_throttle.h"

#include <gtest/gtest.h>

#include "testing/manual_clock.h"

namespace bluegate::api {
namespace {

TEST(AuthThrottleTest, APairIsBlockedAfterItsFailuresUntilTheMinuteEnds) {
  testing::ManualClock clock;
  AuthThrottle throttle(clock, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(throttle.Blocked("203.0.113.7", "key-a")) << i;
    throttle.Failed("203.0.113.7", "key-a");
  }
  clock.Advance(Millis(20'000));
  auto wait = throttle.Blocked("203.0.113.7", "key-a");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Millis(40'000)) << "until a minute after the first failure";
  clock.Advance(Millis(40'000));
  EXPECT_FALSE(throttle.Blocked("203.0.113.7", "key-a"));
}

TEST(AuthThrottleTest, OtherAddressesAndOtherKeysAreNotAffected) {
  testing::ManualClock clock;
  AuthThrottle throttle(clock, 2);
  throttle.Failed("203.0.113.7", "key-a");
  throttle.Failed("203.0.113.7", "key-a");
  EXPECT_TRUE(throttle.Blocked("203.0.113.7", "key-a"));
  EXPECT_FALSE(throttle.Blocked("203.0.113.8", "key-a"));
  EXPECT_FALSE(throttle.Blocked("203.0.113.7", "key-b"));
}

TEST(AuthThrottleTest, RemembersABoundedNumberOfPairs) {
  testing::ManualClock clock;
  AuthThrottle throttle(clock, 1, /*max_tracked=*/2);
  throttle.Failed("a", "k");
  throttle.Failed("b", "k");
  throttle.Failed("c", "k");  // full: not remembered
  EXPECT_TRUE(throttle.Blocked("a", "k"));
  EXPECT_FALSE(throttle.Blocked("c", "k"));
  clock.Advance(Millis(60'000));
  throttle.Failed("c", "k");  // the expired pairs make room
  EXPECT_TRUE(throttle.Blocked("c", "k"));
}

}  // namespace
}  // namespace bluegate::api
