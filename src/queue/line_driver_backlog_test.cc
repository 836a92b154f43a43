// The line's window and its backlog in the store: what is past the window waits in the store
// and is paged in, in order, each message sent once and holding one queue place.
#include <gtest/gtest.h>

#include "queue/line_driver_fixture.h"

namespace bluegate::queue {
namespace {

using testing_support::LineDriverTest;
using namespace std::chrono_literals;

class LineBacklogTest : public LineDriverTest {
 protected:
  // One message a second, a window of `window` per kind.
  void StartPaced(size_t window, NewContactLimits new_contacts = {0, 0}) {
    LineLimits limits = Unpaced();
    limits.burst_per_second = 1;
    limits.queue_window = window;
    limits.new_contacts = new_contacts;
    Start(limits);
  }
  std::vector<int64_t> Submitted() const {
    std::vector<int64_t> out;
    for (const auto& s : carrier_->submits) out.push_back(s.message.message_id);
    return out;
  }
  // Moves the clock a second at a time until `n` messages went, checking the window each time.
  void SendAll(size_t n, size_t most_held) {
    for (int i = 0; i < 1000 && Submits() < n; ++i) {
      EXPECT_LE(driver_->held(), most_held);
      Advance(1s);
    }
  }
};

TEST_F(LineBacklogTest, PastItsWindowALineLeavesMessagesInTheStoreAndSendsThemInOrder) {
  StartPaced(4);
  std::vector<int64_t> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(Queue("+1415555" + std::to_string(1000 + i)));
  EXPECT_EQ(Submits(), 1u);
  EXPECT_EQ(driver_->held(), 4u) << "the window";
  EXPECT_EQ(driver_->depth(), 11) << "every waiting message holds its place";
  EXPECT_EQ(log_.queued_pages(), 0) << "nothing was read back yet";
  SendAll(12, 4);
  EXPECT_EQ(Submitted(), ids) << "in the order they were accepted";
  EXPECT_GT(log_.queued_pages(), 0) << "the rest came from the store";
  EXPECT_EQ(driver_->depth(), 0);
  EXPECT_EQ(driver_->held(), 0u);
}

TEST_F(LineBacklogTest, AfterARestartQueuedMessagesArePagedInAndKnownContactsPassFirstOnes) {
  StartPaced(2, NewContactLimits{0, 1});  // one new contact an hour
  std::vector<int64_t> known, first;
  for (int i = 0; i < 5; ++i) {
    first.push_back(Store("+1415555200" + std::to_string(i), true));
    known.push_back(Store("+1415555300" + std::to_string(i)));
  }
  driver_->Resume(log_.QueuedByLine(line_.number).value()[line_.number]);
  Settle();
  EXPECT_LE(driver_->held(), 4u) << "a window of each kind";
  SendAll(6, 4);
  std::vector<int64_t> want{first[0]};
  want.insert(want.end(), known.begin(), known.end());
  EXPECT_EQ(Submitted(), want) << "known contacts are not held behind four first messages";
  EXPECT_EQ(driver_->depth(), 4);
  EXPECT_EQ(driver_->NewContactsRemaining(clock_.Now()), -4) << "none left, four wait";
  Advance(1h);
  ASSERT_EQ(Submits(), 7u);
  EXPECT_EQ(Submitted().back(), first[1]);
}

TEST_F(LineBacklogTest, AMessagePagedInBeforeItsEnqueueArrivesIsSentOnceAndHoldsOnePlace) {
  StartPaced(2);
  for (int i = 0; i < 4; ++i) Queue("+1415555100" + std::to_string(i));  // 1 sent, 2 held, 1 behind
  // Stored, its place reserved, but its Enqueue not yet run when the page reads it.
  const int64_t early = Store("+14155551009");
  ASSERT_TRUE(driver_->TryReserve());
  SendAll(4, 3);
  ASSERT_EQ(Submits(), 4u);
  EXPECT_EQ(driver_->depth(), 2) << "the one left in the window, and the early one";
  driver_->Enqueue(QueuedMessage{Outbound(early), false, false});
  Settle();
  SendAll(5, 3);
  Advance(5s);
  std::vector<int64_t> sent = Submitted();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), early), 1);
  EXPECT_EQ(sent.size(), 5u);
  EXPECT_EQ(driver_->depth(), 0);
}

TEST_F(LineBacklogTest, ARescanFindsAMessageNobodyAnnouncedAndSendsItOnce) {
  StartPaced(4);
  const int64_t announced = Queue("+14155551000");
  const int64_t moved = Store("+14155551001");  // moved here from a removed line
  Settle();
  EXPECT_EQ(Submitted(), std::vector<int64_t>{announced});
  driver_->Rescan();
  driver_->Rescan();
  Settle();
  Advance(5s);
  EXPECT_EQ(Submitted(), (std::vector<int64_t>{announced, moved}));
  EXPECT_EQ(driver_->depth(), 0);
}

TEST_F(LineBacklogTest, MessagesThatLeftQueuedElsewhereGiveTheirPlacesBackAtTheEndOfTheStore) {
  StartPaced(2);
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Queue("+1415555100" + std::to_string(i)));
  EXPECT_EQ(driver_->depth(), 5);
  // An operator fails the last one while it waits in the store only.
  store::TransitionRequest fail;
  fail.message_id = ids.back();
  fail.to = Status::kError;
  fail.at = clock_.Now();
  log_.Transition(fail, [](Result<store::TransitionOutcome>) {});
  SendAll(5, 2);
  Advance(5s);
  EXPECT_EQ(Submits(), 5u);
  EXPECT_EQ(driver_->depth(), 0) << "its place was given back";
}

// An unpaced line with a backlog does not pour it all towards the carrier: at most send_window
// messages are between the queue and the carrier's answer, and each answer (or failure on the
// way) lets the next one go.
TEST_F(LineBacklogTest, TheSendWindowBoundsMessagesOnTheirWayToTheCarrier) {
  LineLimits limits = Unpaced();
  limits.send_window = 2;
  Start(limits);
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Queue("+1415555100" + std::to_string(i)));
  EXPECT_EQ(Submits(), 2u);
  EXPECT_EQ(StatusOf(ids[2]), Status::kQueued);
  EXPECT_EQ(driver_->depth(), 3);
  Answer(0, carriers::SubmitOutcome::kAccepted);
  EXPECT_EQ(Submits(), 3u) << "an answer frees a place";
  Answer(1, carriers::SubmitOutcome::kRejected);
  EXPECT_EQ(StatusOf(ids[1]), Status::kError);
  EXPECT_EQ(Submits(), 4u) << "so does a refusal";
  EXPECT_EQ(StatusOf(ids[4]), Status::kQueued);
}

TEST_F(LineBacklogTest, AMessageThatStopsBeforeTheCarrierFreesItsSendWindowPlace) {
  LineLimits limits = Unpaced();
  limits.send_window = 1;
  Start(limits);
  log_.set_failing(true);
  const int64_t stuck = Queue("+14155551000");
  log_.set_failing(false);
  const int64_t next = Queue("+14155551001");
  EXPECT_EQ(StatusOf(stuck), Status::kQueued) << "the store could not mark it ACCEPTED";
  ASSERT_EQ(Submits(), 1u) << "and its place went to the next";
  EXPECT_EQ(carrier_->submits[0].message.message_id, next);
}

}  // namespace
}  // namespace bluegate::queue
