#include "queue/line_queue.h"

#include <gtest/gtest.h>

#include "testing/manual_clock.h"

namespace bluegate::queue {
namespace {

using std::chrono::milliseconds;

QueuedMessage Msg(int64_t id, bool new_contact = false) {
  QueuedMessage m;
  m.message.message_id = id;
  m.new_contact = new_contact;
  return m;
}

int64_t IdOf(std::variant<QueuedMessage, TimePoint, LineQueue::Empty>& v) {
  return std::get<QueuedMessage>(v).message.message_id;
}

TEST(LineQueueTest, TheBurstGoesAtOnceAndTheEleventhWaitsForTheNextSlot) {
  testing::ManualClock clock;
  LineQueue q(LineLimits{10, 1500, milliseconds(1000), {}});
  for (int i = 1; i <= 11; ++i) q.Push(Msg(i));
  for (int i = 1; i <= 10; ++i) {
    auto next = q.Next(clock.Now());
    ASSERT_TRUE(std::holds_alternative<QueuedMessage>(next)) << i;
    EXPECT_EQ(IdOf(next), i) << "first in, first out";
  }
  auto wait = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<TimePoint>(wait));
  EXPECT_EQ(std::get<TimePoint>(wait), clock.Now() + milliseconds(100));
  EXPECT_EQ(q.size(), 1u);
  clock.Advance(milliseconds(100));
  auto eleventh = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<QueuedMessage>(eleventh));
  EXPECT_EQ(IdOf(eleventh), 11);
  EXPECT_TRUE(std::holds_alternative<LineQueue::Empty>(q.Next(clock.Now())));
}

TEST(LineQueueTest, EachSmsSegmentCountsAgainstTheBurst) {
  testing::ManualClock clock;
  LineQueue q(LineLimits{10, 1500, milliseconds(1000), {}});
  QueuedMessage long_text = Msg(1);
  long_text.segments = 8;
  q.Push(std::move(long_text));
  for (int i = 2; i <= 4; ++i) q.Push(Msg(i));
  auto a = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<QueuedMessage>(a));
  EXPECT_EQ(IdOf(a), 1);
  // Eight of the ten tokens went with it: two more messages now, the next one 100 ms later.
  auto b = q.Next(clock.Now());
  auto c = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<QueuedMessage>(c));
  EXPECT_EQ(IdOf(b), 2);
  EXPECT_EQ(IdOf(c), 3);
  auto wait = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<TimePoint>(wait));
  EXPECT_EQ(std::get<TimePoint>(wait), clock.Now() + milliseconds(100));
}

TEST(LineQueueTest, AThrottledMessageGoesFirstOnceThePauseEnds) {
  testing::ManualClock clock;
  LineQueue q(LineLimits{0, 1500, milliseconds(1000), {}});
  q.Push(Msg(2));
  q.PushFront(Msg(1));
  q.PauseUntil(clock.Now() + milliseconds(500));
  auto held = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<TimePoint>(held));
  EXPECT_EQ(std::get<TimePoint>(held), clock.Now() + milliseconds(500));
  clock.Advance(milliseconds(500));
  auto first = q.Next(clock.Now());
  EXPECT_EQ(IdOf(first), 1);
}

TEST(LineQueueTest, UnlimitedLinesNeverWait) {
  testing::ManualClock clock;
  LineQueue q(LineLimits{0, 1500, milliseconds(1000), {}});
  for (int i = 0; i < 5000; ++i) q.Push(Msg(i));
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(std::holds_alternative<QueuedMessage>(q.Next(clock.Now())));
}

TEST(LineQueueTest, FirstMessagesWaitForANewContactSlotWithoutHoldingUpKnownContacts) {
  testing::ManualClock clock(*ParseIso8601("2026-01-15T14:00:00.000Z"));
  LineQueue q(LineLimits{0, 1500, milliseconds(1000), NewContactLimits{50, 2}});
  q.Push(Msg(1, true));
  q.Push(Msg(2, true));
  q.Push(Msg(3, true));   // the third new contact this hour must wait
  q.Push(Msg(4, false));  // a known contact goes past it
  auto first = q.Next(clock.Now());
  EXPECT_EQ(IdOf(first), 1);
  auto second = q.Next(clock.Now());
  EXPECT_EQ(IdOf(second), 2);
  auto fourth = q.Next(clock.Now());
  EXPECT_EQ(IdOf(fourth), 4);
  auto wait = q.Next(clock.Now());
  ASSERT_TRUE(std::holds_alternative<TimePoint>(wait));
  EXPECT_EQ(std::get<TimePoint>(wait), clock.Now() + std::chrono::hours(1));
  clock.Advance(std::chrono::hours(1));
  auto third = q.Next(clock.Now());
  EXPECT_EQ(IdOf(third), 3);
}

TEST(LineQueueTest, NewLimitsApplyToTheMessagesAlreadyWaiting) {
  testing::ManualClock clock(*ParseIso8601("2026-01-15T14:00:00.000Z"));
  LineQueue q(LineLimits{0, 1500, milliseconds(1000), NewContactLimits{50, 1}});
  q.Push(Msg(1, true));
  q.Push(Msg(2, true));
  auto first = q.Next(clock.Now());
  EXPECT_EQ(IdOf(first), 1);
  EXPECT_TRUE(std::holds_alternative<TimePoint>(q.Next(clock.Now())));
  LineLimits more{0, 1500, milliseconds(1000), NewContactLimits{50, 2}};
  q.SetLimits(more);
  auto second = q.Next(clock.Now());
  EXPECT_EQ(IdOf(second), 2);
  q.Push(Msg(3, false));
  auto taken = q.TakeAll();
  EXPECT_EQ(taken.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<LineQueue::Empty>(q.Next(clock.Now())));
}

}  // namespace
}  // namespace bluegate::queue
