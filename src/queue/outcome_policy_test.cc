#include "queue/outcome_policy.h"

#include <gtest/gtest.h>

namespace bluegate::queue {
namespace {

using namespace std::chrono_literals;
using Action = SubmitDecision::Action;
using carriers::SubmitOutcome;
using carriers::SubmitResult;

TEST(OutcomePolicyTest, EachSubmitOutcomeHasItsAction) {
  EXPECT_EQ(DecideSubmit(SubmitResult{SubmitOutcome::kAccepted, "", 0ms}, 1s).action,
            Action::kAwaitReport);
  const auto rejected = DecideSubmit(SubmitResult{SubmitOutcome::kRejected, "bad number", 0ms}, 1s);
  EXPECT_EQ(rejected.action, Action::kFail);
  ASSERT_TRUE(rejected.error);
  EXPECT_EQ(rejected.error->code, ErrorCode::kFailedToSend);
  EXPECT_EQ(rejected.error->detail, "bad number");
  EXPECT_FALSE(DecideSubmit(SubmitResult{SubmitOutcome::kRejected, "", 0ms}, 1s).error->detail);
  EXPECT_EQ(DecideSubmit(SubmitResult{SubmitOutcome::kUnknown, "", 0ms}, 1s).action,
            Action::kReconcile);
}

TEST(OutcomePolicyTest, AThrottleWaitsWhatTheCarrierAskedElseTheBackoff) {
  const auto asked = DecideSubmit(SubmitResult{SubmitOutcome::kThrottled, "", 2500ms}, 1s);
  EXPECT_EQ(asked.action, Action::kRequeue);
  EXPECT_EQ(asked.pause, 2500ms);
  EXPECT_EQ(DecideSubmit(SubmitResult{SubmitOutcome::kThrottled, "", 0ms}, 1s).pause, 1s);
  const auto gone = DecideSubmit(SubmitResult{SubmitOutcome::kDisconnected, "", 9s}, 2s);
  EXPECT_EQ(gone.action, Action::kRequeue);
  EXPECT_EQ(gone.pause, 2s) << "a disconnect waits the backoff, whatever else it said";
}

TEST(OutcomePolicyTest, OnlyAMessageNeverConfirmedSentIsResubmitted) {
  EXPECT_TRUE(DecideReconcile(std::nullopt, Status::kAccepted).resubmit);
  EXPECT_FALSE(DecideReconcile(std::nullopt, Status::kSent).resubmit);
  EXPECT_TRUE(DecideReconcile(std::nullopt, Status::kSent).reports.empty());
}

TEST(OutcomePolicyTest, ADeliveryFoundByReconcileIsToldAfterSent) {
  carriers::ReconcileResult delivered{Status::kDelivered, Service::kIMessage, std::nullopt, {}};
  EXPECT_EQ(DecideReconcile(delivered, Status::kAccepted).reports,
            (std::vector<Status>{Status::kSent, Status::kDelivered}));
  EXPECT_EQ(DecideReconcile(delivered, Status::kSent).reports,
            std::vector<Status>{Status::kDelivered});
  carriers::ReconcileResult failed{Status::kError, std::nullopt, std::nullopt, {}};
  const auto d = DecideReconcile(failed, Status::kAccepted);
  EXPECT_EQ(d.reports, std::vector<Status>{Status::kError});
  EXPECT_FALSE(d.resubmit);
}

TEST(OutcomePolicyTest, AttachmentsMustFitTheirService) {
  EXPECT_FALSE(MediaTooLarge(std::nullopt, Service::kSms)) << "an unknown size goes to the carrier";
  EXPECT_FALSE(MediaTooLarge(kSmsMediaLimit, Service::kSms));
  const auto sms = MediaTooLarge(kSmsMediaLimit + 1, Service::kSms);
  ASSERT_TRUE(sms);
  EXPECT_EQ(sms->reason, "media_too_large");
  EXPECT_NE(sms->message.find("5 MB SMS limit"), std::string::npos) << sms->message;
  EXPECT_FALSE(MediaTooLarge(kSmsMediaLimit + 1, Service::kIMessage));
  EXPECT_TRUE(MediaTooLarge(kIMessageMediaLimit + 1, Service::kIMessage));
}

}  // namespace
}  // namespace bluegate::queue
