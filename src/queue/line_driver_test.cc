// The line driver on a manual clock: every wait (the burst, new-contact slots, a throttled or
// disconnected carrier, the resolve timeout) is asserted by moving the clock, never by sleeping.
#include "queue/line_driver.h"
#include "queue/outcome_policy.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>

#include "queue/line_driver_fixture.h"
#include "testing/temp_dir.h"

namespace bluegate::queue {
namespace {

using testing_support::LineDriverTest;
using namespace std::chrono_literals;
using carriers::SubmitOutcome;

TEST_F(LineDriverTest, AQueuedMessageIsAcceptedSubmittedAndFollowsItsReports) {
  Start();
  const int64_t id = Queue("+14155550100");
  ASSERT_EQ(Submits(), 1u);
  EXPECT_EQ(carrier_->submits[0].message.service, Service::kIMessage) << "the lookup decided";
  EXPECT_EQ(StatusOf(id), Status::kAccepted);
  Answer(0, SubmitOutcome::kAccepted);
  EXPECT_EQ(StatusOf(id), Status::kAccepted) << "taken: the carrier's reports finish it";
  Report(id, Status::kSent);
  Report(id, Status::kDelivered);
  EXPECT_EQ(StatusOf(id), Status::kDelivered);
  EXPECT_EQ(driver_->depth(), 0);
}

TEST_F(LineDriverTest, AHeldLineKeepsItsQueueUntilReleased) {
  LineLimits held = Unpaced();
  held.held = true;  // its account is disabled
  Start(held);
  const int64_t first = Queue("+14155550100");
  const int64_t second = Queue("+14155550101");
  Advance(60s);
  EXPECT_EQ(Submits(), 0u) << "nothing is handed to the carrier";
  EXPECT_EQ(StatusOf(first), Status::kQueued);
  EXPECT_EQ(driver_->depth(), 2) << "both keep their places";

  driver_->UpdateLimits(Unpaced());  // enabled again
  Settle();
  ASSERT_EQ(Submits(), 2u);
  EXPECT_EQ(carrier_->submits[0].message.message_id, first) << "in their order";
  EXPECT_EQ(carrier_->submits[1].message.message_id, second);
}

TEST_F(LineDriverTest, AThrottledMessageWaitsAsLongAsTheCarrierAskedAndGoesFirst) {
  Start();
  const int64_t first = Queue("+14155550100");
  Answer(0, SubmitOutcome::kThrottled, 3000ms);
  const int64_t second = Queue("+14155550101");
  EXPECT_EQ(Submits(), 1u) << "the line is paused: nothing goes";
  EXPECT_EQ(driver_->depth(), 2);
  Advance(2999ms);
  EXPECT_EQ(Submits(), 1u);
  Advance(1ms);
  ASSERT_EQ(Submits(), 3u);
  EXPECT_EQ(carrier_->submits[1].message.message_id, first) << "the throttled one goes first";
  EXPECT_EQ(carrier_->submits[2].message.message_id, second);
  EXPECT_EQ(StatusOf(first), Status::kAccepted) << "accepted once, not twice";
  size_t accepted = 0;
  for (const auto& t : log_.transitions()) accepted += t.to == Status::kAccepted;
  EXPECT_EQ(accepted, 2u);
}

TEST_F(LineDriverTest, AThrottleWithoutAWaitUsesTheReconnectBackoff) {
  Start();
  Queue("+14155550100");
  Answer(0, SubmitOutcome::kThrottled);
  Advance(999ms);
  EXPECT_EQ(Submits(), 1u);
  Advance(1ms);
  EXPECT_EQ(Submits(), 2u);
}

TEST_F(LineDriverTest, ADisconnectedCarrierGetsTheMessageAgainAfterTheBackoff) {
  Start();
  const int64_t id = Queue("+14155550100");
  Answer(0, SubmitOutcome::kDisconnected);
  EXPECT_EQ(StatusOf(id), Status::kAccepted);
  Advance(999ms);
  EXPECT_EQ(Submits(), 1u);
  Advance(1ms);
  ASSERT_EQ(Submits(), 2u);
  EXPECT_EQ(carrier_->submits[1].message.message_id, id);
  Answer(1, SubmitOutcome::kDisconnected);
  Advance(1000ms);
  EXPECT_EQ(Submits(), 3u) << "every disconnect waits the backoff again";
}

TEST_F(LineDriverTest, ARejectedMessageFailsWith10001) {
  Start();
  const int64_t id = Queue("+14155550100");
  carrier_->submits[0].done(
      carriers::SubmitResult{SubmitOutcome::kRejected, "invalid destination", 0ms});
  Settle();
  const Message m = log_.Get(id);
  EXPECT_EQ(m.status, Status::kError);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->code, ErrorCode::kFailedToSend);
  EXPECT_EQ(m.error->detail, "invalid destination");
}

TEST_F(LineDriverTest, AnUnknownOutcomeIsReconciledBeforeAnyResend) {
  Start();
  const int64_t id = Queue("+14155550100");
  Answer(0, SubmitOutcome::kUnknown);
  ASSERT_EQ(carrier_->reconciles.size(), 1u);
  EXPECT_EQ(Submits(), 1u) << "not re-sent before the carrier is asked";
  carrier_->reconciles[0].done(std::nullopt);
  Settle();
  ASSERT_EQ(Submits(), 2u) << "never confirmed sent, and the carrier cannot tell: re-sent";
  EXPECT_EQ(carrier_->submits[1].message.message_id, id);
  EXPECT_EQ(metrics_.CarrierResubmits(), 1u);
}

TEST_F(LineDriverTest, AReconciledDeliveryIsToldAfterSent) {
  Start();
  const int64_t id = Queue("+14155550100");
  Answer(0, SubmitOutcome::kUnknown);
  carrier_->reconciles[0].done(
      carriers::ReconcileResult{Status::kDelivered, Service::kIMessage, std::nullopt, {}});
  Settle();
  EXPECT_EQ(StatusOf(id), Status::kDelivered);
  const auto t = log_.transitions();
  ASSERT_GE(t.size(), 3u);
  EXPECT_EQ(t[t.size() - 2].to, Status::kSent);
  EXPECT_EQ(t.back().to, Status::kDelivered);
  EXPECT_EQ(Submits(), 1u);
  EXPECT_EQ(metrics_.CarrierResubmits(), 0u);
}

TEST_F(LineDriverTest, AfterARestartOnlyMessagesNeverConfirmedSentAreResubmitted) {
  Start();
  Message accepted;
  accepted.line_number = line_.number;
  accepted.status = Status::kAccepted;
  const int64_t a = log_.Add(accepted);
  Message sent = accepted;
  sent.id = 0;
  sent.status = Status::kSent;
  const int64_t s = log_.Add(sent);
  driver_->Reconcile(Outbound(s), Status::kSent);
  driver_->Reconcile(Outbound(a), Status::kAccepted);
  Settle();
  ASSERT_EQ(carrier_->reconciles.size(), 2u);
  for (auto& r : carrier_->reconciles) r.done(std::nullopt);
  Settle();
  ASSERT_EQ(Submits(), 1u) << "a SENT message went out: a re-send would duplicate it";
  EXPECT_EQ(carrier_->submits[0].message.message_id, a);
  EXPECT_EQ(metrics_.CarrierResubmits(), 1u);
}

TEST_F(LineDriverTest, TheResolveTimeoutFailsAMessageTheCarrierNeverReportsOn) {
  LineLimits limits = Unpaced();
  limits.resolve_timeout = 5min;
  Start(limits);
  const int64_t silent = Queue("+14155550103");
  Answer(0, SubmitOutcome::kAccepted);
  clock_.Advance(1min);
  const int64_t reported = Queue("+14155550100");
  Answer(1, SubmitOutcome::kAccepted);
  Report(reported, Status::kSent);
  Advance(4min - 1ms);
  EXPECT_EQ(StatusOf(silent), Status::kAccepted);
  Advance(1ms);
  const Message m = log_.Get(silent);
  EXPECT_EQ(m.status, Status::kError);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->code, ErrorCode::kFailedToResolve);
  Advance(10min);
  EXPECT_EQ(StatusOf(reported), Status::kSent) << "a report stops its message's deadline";
  EXPECT_EQ(timers_.armed(), 0u) << "nothing left to wait for";
}

TEST_F(LineDriverTest, AnAttachmentOverTheSmsLimitFailsWithoutReachingTheCarrier) {
  uint64_t declared = 6ull * 1024 * 1024;
  Start(Unpaced(), [&declared](const std::string&, auto done) {
    done(MediaSize{declared, "", nullptr});
  });
  carrier_->service = Service::kSms;
  const int64_t big = Queue("+14155550101", false, "https://cdn.example/big.jpg");
  EXPECT_EQ(Submits(), 0u);
  const Message m = log_.Get(big);
  EXPECT_EQ(m.status, Status::kError);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->reason, "media_too_large");
  EXPECT_EQ(m.was_downgraded, true) << "it fell back to SMS before failing there";
  declared = 4ull * 1024 * 1024;
  Queue("+14155550101", false, "https://cdn.example/small.jpg");
  ASSERT_EQ(Submits(), 1u);
  EXPECT_EQ(carrier_->submits[0].message.service, Service::kSms);
}

// A shrinker that records what it was asked and answers as the test says.
struct ScriptedShrinker {
  std::vector<ShrinkRequest> asked;
  std::vector<Result<std::string>> answers;  // one per call, in order
  MediaShrinker Fn() {
    return [this](ShrinkRequest r, std::function<void(Result<std::string>)> done) {
      asked.push_back(r);
      Result<std::string> a = answers.at(asked.size() - 1);
      done(std::move(a));
    };
  }
};

MediaProbe Declares(uint64_t bytes) {
  return [bytes](const std::string&, auto done) { done(MediaSize{bytes, "", nullptr}); };
}

TEST_F(LineDriverTest, AnAttachmentOverTheSmsLimitIsCompressedAndTheCopyGoes) {
  ScriptedShrinker shrinker;
  shrinker.answers.push_back(std::string("https://gw.example/media/m1-sms.jpg"));
  Start(Unpaced(), Declares(6ull * 1024 * 1024), shrinker.Fn());
  carrier_->service = Service::kSms;
  const int64_t id = Queue("+14155550101", false, "https://cdn.example/big.jpg");
  ASSERT_EQ(shrinker.asked.size(), 1u);
  EXPECT_EQ(shrinker.asked[0].media_url, "https://cdn.example/big.jpg");
  EXPECT_EQ(shrinker.asked[0].limit, kSmsMediaLimit);
  EXPECT_EQ(shrinker.asked[0].handle, "m1");
  EXPECT_EQ(shrinker.asked[0].account_id, line_.account_id);
  ASSERT_EQ(Submits(), 1u);
  EXPECT_EQ(carrier_->submits[0].message.media_url, "https://gw.example/media/m1-sms.jpg");
  const Message m = log_.Get(id);
  EXPECT_EQ(m.media_url, "https://gw.example/media/m1-sms.jpg") << "the copy is recorded first";
  EXPECT_EQ(m.original_media_url, "https://cdn.example/big.jpg");
  EXPECT_EQ(m.status, Status::kAccepted);
}

TEST_F(LineDriverTest, WhatTheSizeCheckDownloadedIsCompressedWithoutAnotherFetchThenDeleted) {
  testing::TempDir dir("line-driver-media");
  const std::string path = dir.File("downloaded");
  std::weak_ptr<DownloadedMedia> handed;
  MediaProbe downloads = [&](const std::string&, auto done) {
    std::ofstream(path) << "an attachment that declared no size";
    auto body = std::make_shared<DownloadedMedia>(path);
    handed = body;
    done(MediaSize{6ull * 1024 * 1024, "", std::move(body)});
  };
  ScriptedShrinker shrinker;
  shrinker.answers.push_back(std::string("https://gw.example/media/m1-sms.jpg"));
  Start(Unpaced(), downloads, shrinker.Fn());
  carrier_->service = Service::kSms;
  Queue("+14155550101", false, "https://cdn.example/no-length.jpg");
  ASSERT_EQ(shrinker.asked.size(), 1u);
  ASSERT_TRUE(shrinker.asked[0].body) << "the compressor reads the download";
  EXPECT_EQ(shrinker.asked[0].body->path(), path);
  shrinker.asked.clear();
  EXPECT_TRUE(handed.expired());
  EXPECT_FALSE(std::filesystem::exists(path)) << "deleted with its last holder";
  carrier_->service = Service::kIMessage;  // no compression: the download goes at once
  Queue("+14155550102", false, "https://cdn.example/no-length.jpg");
  EXPECT_TRUE(handed.expired());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(LineDriverTest, AnAttachmentThatCannotBeCompressedFailsSayingWhy) {
  ScriptedShrinker shrinker;
  shrinker.answers.push_back(Error{ErrorKind::kRejected, "only images and videos", {}, {}});
  Start(Unpaced(), Declares(6ull * 1024 * 1024), shrinker.Fn());
  carrier_->service = Service::kSms;
  const int64_t id = Queue("+14155550101", false, "https://cdn.example/big.pdf");
  EXPECT_EQ(Submits(), 0u);
  const Message m = log_.Get(id);
  EXPECT_EQ(m.status, Status::kError);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->code, ErrorCode::kFailedToSend);
  EXPECT_EQ(m.error->reason, "media_too_large");
  EXPECT_NE(m.error->message.find("could not be compressed to fit: only images"),
            std::string::npos)
      << m.error->message;
  EXPECT_EQ(m.error->detail, "only images and videos");
  EXPECT_EQ(m.media_url, "https://cdn.example/big.pdf") << "nothing replaced it";
}

TEST_F(LineDriverTest, BusyCompressorsHoldTheMessageUntilTheyAreFree) {
  ScriptedShrinker shrinker;
  shrinker.answers.push_back(Error{ErrorKind::kOverloaded, "busy", {}, 2s});
  shrinker.answers.push_back(std::string("https://gw.example/media/m1-sms.jpg"));
  Start(Unpaced(), Declares(6ull * 1024 * 1024), shrinker.Fn());
  carrier_->service = Service::kSms;
  const int64_t id = Queue("+14155550101", false, "https://cdn.example/big.jpg");
  EXPECT_EQ(Submits(), 0u);
  EXPECT_EQ(StatusOf(id), Status::kAccepted) << "it waits, it does not fail";
  Advance(2s - 1ms);
  EXPECT_EQ(shrinker.asked.size(), 1u);
  Advance(1ms);
  EXPECT_EQ(shrinker.asked.size(), 2u);
  ASSERT_EQ(Submits(), 1u);
  EXPECT_EQ(carrier_->submits[0].message.media_url, "https://gw.example/media/m1-sms.jpg");
}

TEST_F(LineDriverTest, NeitherIMessageNorAnAttachmentOverOneHundredMbIsCompressed) {
  ScriptedShrinker shrinker;
  Start(Unpaced(), Declares(kIMessageMediaLimit + 1), shrinker.Fn());
  carrier_->service = Service::kSms;
  const int64_t huge = Queue("+14155550101", false, "https://cdn.example/huge.mov");
  EXPECT_EQ(StatusOf(huge), Status::kError);
  carrier_->service = Service::kIMessage;
  Queue("+14155550102", false, "https://cdn.example/huge.mov");
  EXPECT_TRUE(shrinker.asked.empty());
}

TEST_F(LineDriverTest, AnAttachmentWithinTheIMessageLimitGoes) {
  Start(Unpaced(), Declares(6ull * 1024 * 1024));
  Queue("+14155550100", false, "https://cdn.example/big.jpg");
  EXPECT_EQ(Submits(), 1u);
}

TEST_F(LineDriverTest, TheBurstLimitSpacesMessages) {
  LineLimits limits = Unpaced();
  limits.burst_per_second = 1;
  Start(limits);
  for (int i = 0; i < 3; ++i) Queue("+1415555010" + std::to_string(i));
  EXPECT_EQ(Submits(), 1u);
  EXPECT_EQ(driver_->depth(), 2);
  Advance(999ms);
  EXPECT_EQ(Submits(), 1u);
  Advance(1ms);
  EXPECT_EQ(Submits(), 2u);
  Advance(1s);
  EXPECT_EQ(Submits(), 3u);
  EXPECT_EQ(driver_->depth(), 0);
}

TEST_F(LineDriverTest, ANewContactWaitsForTheNextSlotWhileKnownContactsGo) {
  LineLimits limits = Unpaced();
  limits.new_contacts = NewContactLimits{0, 1};  // one new contact an hour
  Start(limits);
  Queue("+14155550100", true);
  const int64_t waiting = Queue("+14155550101", true);
  const int64_t known = Queue("+14155550102", false);
  ASSERT_EQ(Submits(), 2u) << "the known contact is not held behind the new one";
  EXPECT_EQ(carrier_->submits[1].message.message_id, known);
  EXPECT_EQ(StatusOf(waiting), Status::kQueued);
  EXPECT_EQ(driver_->NewContactsRemaining(clock_.Now()), -1) << "none left, and one waits";
  Advance(1h - 1ms);
  EXPECT_EQ(Submits(), 2u);
  Advance(1ms);
  ASSERT_EQ(Submits(), 3u);
  EXPECT_EQ(carrier_->submits[2].message.message_id, waiting);
}

TEST_F(LineDriverTest, PastTheDailySmsAllowanceAnSmsEndsInSmsLimitReachedUntilTheNextDay) {
  LineLimits limits = Unpaced();
  limits.sms_per_day = 1;
  Start(limits);
  carrier_->service = Service::kSms;
  const int64_t first = Queue("+14155550101");
  Answer(0, SubmitOutcome::kThrottled, 10ms);  // a re-send of the same message counts once
  Advance(10ms);
  ASSERT_EQ(Submits(), 2u);
  const int64_t second = Queue("+14155550102");
  EXPECT_EQ(Submits(), 2u) << "over the allowance: not handed to the carrier";
  const Message m = log_.Get(second);
  EXPECT_EQ(m.status, Status::kError);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->code, ErrorCode::kSmsLimitReached);
  ASSERT_TRUE(m.error->detail);
  EXPECT_NE(m.error->detail->find("retry after " + FormatIso8601(NextDayStart(clock_.Now()))),
            std::string::npos)
      << *m.error->detail;
  EXPECT_EQ(StatusOf(first), Status::kAccepted);
  carrier_->service = Service::kIMessage;
  Queue("+14155550103");
  EXPECT_EQ(Submits(), 3u) << "iMessage is not counted";
  carrier_->service = Service::kSms;
  clock_.Set(NextDayStart(clock_.Now()));
  Queue("+14155550104");
  EXPECT_EQ(Submits(), 4u) << "a new day, a new allowance";
}

TEST_F(LineDriverTest, AStoreThatCannotCommitLeavesTheMessageQueued) {
  Start();
  log_.set_failing(true);
  const int64_t id = Queue("+14155550100");
  EXPECT_EQ(Submits(), 0u) << "nothing goes out that the store did not mark ACCEPTED";
  EXPECT_EQ(StatusOf(id), Status::kQueued);
}

TEST_F(LineDriverTest, ARetiredLineForwardsWhatWaits) {
  LineLimits limits = Unpaced();
  limits.burst_per_second = 0.001;
  Start(limits);
  Queue("+14155550100");
  const int64_t waiting = Queue("+14155550101");
  driver_->Retire();
  Settle();
  EXPECT_EQ(forwarded_, std::vector<int64_t>{waiting});
  EXPECT_EQ(driver_->depth(), 0);
  const int64_t late = Queue("+14155550102");
  EXPECT_EQ(forwarded_.back(), late) << "a retired line takes nothing more";
  EXPECT_EQ(Submits(), 1u);
}

TEST_F(LineDriverTest, InboundMessagesGoToTheOutboundWithTheLine) {
  Start();
  carriers::CarrierEvent e;
  e.kind = carriers::CarrierEvent::Kind::kInbound;
  e.from = "+14155550100";
  e.content = "hi";
  driver_->OnCarrierEvent(e);
  ASSERT_EQ(heard_.size(), 1u);
  EXPECT_EQ(heard_[0].content, "hi");
}

}  // namespace
}  // namespace bluegate::queue
