// store.message_retention's schedule: a pass at start, then one an hour, each deleting what
// finished before now minus the retention.
#include "app/message_pruner.h"

#include <gtest/gtest.h>

#include "testing/fake_message_log.h"
#include "testing/manual_clock.h"
#include "testing/manual_timers.h"

namespace bluegate::app {
namespace {

using namespace std::chrono_literals;

TEST(MessagePrunerTest, PrunesAtStartThenHourlyWithTheRetentionsCutoff) {
  testing::ManualClock clock;
  testing::ManualTimers timers(clock);
  testing::FakeMessageLog log;
  MessagePruner pruner(
      log, timers, clock, [](std::function<void()> fn) { fn(); }, 24h * 90);
  const TimePoint start = clock.Now();
  pruner.Start();
  timers.Advance(0ms, [] {});
  ASSERT_EQ(log.PruneCutoffs().size(), 1u);
  EXPECT_EQ(log.PruneCutoffs()[0], start - 24h * 90);
  timers.Advance(1h - 1ms, [] {});
  EXPECT_EQ(log.PruneCutoffs().size(), 1u) << "not before the hour";
  timers.Advance(1ms, [] {});
  ASSERT_EQ(log.PruneCutoffs().size(), 2u);
  EXPECT_EQ(log.PruneCutoffs()[1], start + 1h - 24h * 90);
}

}  // namespace
}  // namespace bluegate::app
