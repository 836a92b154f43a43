#include "api/console_sessions.h"

#include <gtest/gtest.h>

#include "testing/manual_clock.h"

namespace bluegate::api {
namespace {

ConsoleSessionSettings Settings(size_t max_sessions = 3) {
  return ConsoleSessionSettings{Millis(60'000), Millis(600'000), max_sessions};
}

TEST(ConsoleSessionsTest, ASessionIsFoundByItsIdAndEndsOnClose) {
  testing::ManualClock clock;
  ConsoleSessions sessions(Settings(), clock, SecureIds());
  const ConsoleSession s = sessions.Open("key", "secret");
  EXPECT_EQ(s.id.size(), 64u);
  EXPECT_EQ(s.csrf.size(), 64u);
  EXPECT_NE(s.id, s.csrf);
  auto found = sessions.Find(s.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->key_id, "key");
  EXPECT_EQ(found->secret, "secret");
  EXPECT_FALSE(sessions.Find("another").has_value());
  sessions.Close(s.id);
  EXPECT_FALSE(sessions.Find(s.id).has_value());
}

TEST(ConsoleSessionsTest, UseKeepsASessionAliveUntilItsMaximumAge) {
  testing::ManualClock clock;
  ConsoleSessions sessions(Settings(), clock, SecureIds());
  const ConsoleSession idle = sessions.Open("a", "s");
  const ConsoleSession used = sessions.Open("b", "s");
  for (int i = 0; i < 10; ++i) {  // used every 59 s, to 590 s after sign-in
    clock.Advance(Millis(59'000));
    ASSERT_TRUE(sessions.Find(used.id).has_value()) << i;
  }
  EXPECT_FALSE(sessions.Find(idle.id).has_value()) << "a minute without use ends it";
  clock.Advance(Millis(10'000));
  EXPECT_FALSE(sessions.Find(used.id).has_value()) << "ten minutes after sign-in, use or not";
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(ConsoleSessionsTest, PastTheBoundSigningInEndsTheLeastRecentlyUsed) {
  testing::ManualClock clock;
  ConsoleSessions sessions(Settings(3), clock, SecureIds());
  const ConsoleSession a = sessions.Open("a", "s");
  const ConsoleSession b = sessions.Open("b", "s");
  const ConsoleSession c = sessions.Open("c", "s");
  ASSERT_TRUE(sessions.Find(a.id).has_value());  // a is now the most recently used
  const ConsoleSession d = sessions.Open("d", "s");
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_FALSE(sessions.Find(b.id).has_value()) << "b was used least recently";
  EXPECT_TRUE(sessions.Find(a.id).has_value());
  EXPECT_TRUE(sessions.Find(c.id).has_value());
  EXPECT_TRUE(sessions.Find(d.id).has_value());
}

TEST(ConsoleSessionsTest, OnlyTheSessionsOwnCsrfTokenMatches) {
  testing::ManualClock clock;
  ConsoleSessions sessions(Settings(), clock, SecureIds());
  const ConsoleSession a = sessions.Open("a", "s");
  const ConsoleSession b = sessions.Open("b", "s");
  EXPECT_TRUE(ConsoleSessions::CsrfMatches(a, a.csrf));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(a, b.csrf));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(a, ""));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(a, a.csrf.substr(0, 63)));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(a, a.id));
}

TEST(ConsoleSessionsTest, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("bluegate_session=abc", "bluegate_session"), "abc");
  EXPECT_EQ(CookieValue("x=1; bluegate_session=abc; y=2", "bluegate_session"), "abc");
  EXPECT_EQ(CookieValue("not_bluegate_session=abc", "bluegate_session"), "");
  EXPECT_EQ(CookieValue("bluegate_sessionx=abc", "bluegate_session"), "");
  EXPECT_EQ(CookieValue("", "bluegate_session"), "");
  EXPECT_EQ(CookieValue(";;; ;", "bluegate_session"), "");
}

}  // namespace
}  // namespace bluegate::api
