#include "core/token_bucket.h"

#include <gtest/gtest.h>

#include "testing/manual_clock.h"

namespace bluegate {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucketTest, ABurstGoesAtOnceAndTheNextWaitsForItsSlot) {
  testing::ManualClock clock;
  TokenBucket bucket(10, 10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.TryTake(clock.Now())) << i;
  EXPECT_FALSE(bucket.TryTake(clock.Now()));
  EXPECT_EQ(bucket.NextAvailable(clock.Now()), clock.Now() + milliseconds(100));
  clock.Advance(milliseconds(99));
  EXPECT_FALSE(bucket.TryTake(clock.Now()));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(bucket.TryTake(clock.Now()));
}

TEST(TokenBucketTest, TokensDoNotAccumulateBeyondTheBurst) {
  testing::ManualClock clock;
  TokenBucket bucket(10, 10);
  EXPECT_TRUE(bucket.TryTake(clock.Now()));
  clock.Advance(std::chrono::hours(1));
  int taken = 0;
  while (bucket.TryTake(clock.Now())) ++taken;
  EXPECT_EQ(taken, 10);
}

TEST(TokenBucketTest, ZeroRateMeansUnlimited) {
  testing::ManualClock clock;
  TokenBucket bucket(0, 0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(bucket.TryTake(clock.Now()));
  EXPECT_EQ(bucket.NextAvailable(clock.Now()), clock.Now());
}

}  // namespace
}  // namespace bluegate
