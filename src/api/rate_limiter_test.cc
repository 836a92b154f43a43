#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include "testing/manual_clock.h"

namespace bluegate::api {
namespace {

TEST(RateLimiterTest, TheHundredAndFirstListInTenSecondsWaitsForItsToken) {
  testing::ManualClock clock;
  RateLimiter limiter(DefaultRateRules(), clock);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.Take(1, "GET", "/api/v2/messages").ok()) << i;
  auto refused = limiter.Take(1, "GET", "/api/v2/messages");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(refused.error().code, ErrorCode::kLineRateWindowExceeded)
      << "5509: the account's window, not a line's 4001";
  EXPECT_EQ(refused.error().retry_after, Millis(100)) << "one token comes back every 100 ms";
  EXPECT_TRUE(limiter.Take(2, "GET", "/api/v2/messages").ok()) << "each account has its own";
  EXPECT_TRUE(limiter.Take(1, "GET", "/api/v2/messages/abc").ok()) << "another route";
  EXPECT_TRUE(limiter.Take(1, "POST", "/api/send-message").ok());
  clock.Advance(Millis(100));
  EXPECT_TRUE(limiter.Take(1, "GET", "/api/v2/messages").ok());
  EXPECT_FALSE(limiter.Take(1, "GET", "/api/v2/messages").ok());
}

TEST(RateLimiterTest, ReplacedRulesApplyAtOnceAndAnUnchangedRuleKeepsItsBuckets) {
  testing::ManualClock clock;
  RateLimiter limiter({*ParseRateRule("GET /a", "2/10s"), *ParseRateRule("GET /b", "1/10s")},
                      clock);
  ASSERT_TRUE(limiter.Take(1, "GET", "/a").ok());
  ASSERT_TRUE(limiter.Take(1, "GET", "/a").ok());
  ASSERT_TRUE(limiter.Take(1, "GET", "/b").ok());
  ASSERT_FALSE(limiter.Take(1, "GET", "/b").ok());
  // /a unchanged (now second in the list), /b raised, /c new.
  limiter.Replace({*ParseRateRule("GET /b", "3/10s"), *ParseRateRule("GET /a", "2/10s"),
                   *ParseRateRule("GET /c", "1/10s")});
  EXPECT_FALSE(limiter.Take(1, "GET", "/a").ok())
      << "the unchanged rule's empty bucket carries over";
  EXPECT_TRUE(limiter.Take(1, "GET", "/b").ok()) << "a changed rule starts full";
  EXPECT_TRUE(limiter.Take(1, "GET", "/b").ok());
  EXPECT_TRUE(limiter.Take(1, "GET", "/b").ok());
  EXPECT_FALSE(limiter.Take(1, "GET", "/b").ok()) << "at its new limit of 3";
  EXPECT_TRUE(limiter.Take(1, "GET", "/c").ok());
  EXPECT_FALSE(limiter.Take(1, "GET", "/c").ok());
  limiter.Replace({});
  EXPECT_TRUE(limiter.Take(1, "GET", "/c").ok()) << "no rule left: no limit";
}

TEST(RateLimiterTest, RulesParseAndCoverPrefixesAndAnyMethod) {
  EXPECT_FALSE(ParseRateRule("GET /x", "100").has_value());
  EXPECT_FALSE(ParseRateRule("GET /x", "ten/1s").has_value());
  EXPECT_FALSE(ParseRateRule("GET /x", "10/0s").has_value());
  auto rule = ParseRateRule("* /api/v2/contacts*", "2/1s");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->requests, 2);
  EXPECT_EQ(rule->per, Millis(1000));
  EXPECT_EQ(ParseRateRule("GET /x", "none")->requests, 0);
  testing::ManualClock clock;
  RateLimiter limiter({*rule}, clock);
  EXPECT_TRUE(limiter.Take(1, "GET", "/api/v2/contacts").ok());
  EXPECT_TRUE(limiter.Take(1, "POST", "/api/v2/contacts/bulk").ok());
  EXPECT_FALSE(limiter.Take(1, "DELETE", "/api/v2/contacts/+12125550100").ok());
  EXPECT_TRUE(limiter.Take(1, "GET", "/api/v2/messages").ok());
}

}  // namespace
}  // namespace bluegate::api
