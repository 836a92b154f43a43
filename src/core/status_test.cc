#include "core/status.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(StatusTest, ForwardMovesAreAllowedAndMaySkip) {
  EXPECT_TRUE(CanTransition(Status::kQueued, Status::kAccepted, Service::kIMessage));
  EXPECT_TRUE(CanTransition(Status::kAccepted, Status::kSent, Service::kIMessage));
  EXPECT_TRUE(CanTransition(Status::kSent, Status::kDelivered, Service::kIMessage));
  EXPECT_TRUE(CanTransition(Status::kAccepted, Status::kDelivered, Service::kIMessage));
}

TEST(StatusTest, AStatusNeverMovesBackwards) {
  EXPECT_FALSE(CanTransition(Status::kSent, Status::kAccepted, Service::kIMessage));
  EXPECT_FALSE(CanTransition(Status::kDelivered, Status::kSent, Service::kIMessage));
  EXPECT_FALSE(CanTransition(Status::kQueued, Status::kQueued, Service::kIMessage));
}

TEST(StatusTest, ErrorAndDeclinedAreReachableFromAnyNonFinalStatus) {
  for (Status s :
       {Status::kRegistered, Status::kPending, Status::kQueued, Status::kAccepted, Status::kSent}) {
    EXPECT_TRUE(CanTransition(s, Status::kError, Service::kIMessage)) << StatusName(s);
    EXPECT_TRUE(CanTransition(s, Status::kDeclined, Service::kIMessage)) << StatusName(s);
  }
}

TEST(StatusTest, NothingLeavesAFinalStatus) {
  for (Status s : {Status::kDelivered, Status::kDeclined, Status::kError, Status::kReceived}) {
    EXPECT_TRUE(IsFinal(s, Service::kIMessage));
    EXPECT_FALSE(CanTransition(s, Status::kError, Service::kIMessage)) << StatusName(s);
    EXPECT_FALSE(CanTransition(s, Status::kDelivered, Service::kIMessage)) << StatusName(s);
  }
}

TEST(StatusTest, SentIsFinalForSmsOnly) {
  EXPECT_TRUE(IsFinal(Status::kSent, Service::kSms));
  EXPECT_FALSE(IsFinal(Status::kSent, Service::kIMessage));
  EXPECT_FALSE(CanTransition(Status::kSent, Status::kDelivered, Service::kSms));
  EXPECT_FALSE(CanTransition(Status::kSent, Status::kError, Service::kSms));
  // ...unless an SMS carrier's delivery receipt says what became of it.
  EXPECT_TRUE(CanTransition(Status::kSent, Status::kDelivered, Service::kSms, true));
  EXPECT_TRUE(CanTransition(Status::kSent, Status::kError, Service::kSms, true));
  EXPECT_FALSE(CanTransition(Status::kSent, Status::kQueued, Service::kSms, true));
  EXPECT_FALSE(CanTransition(Status::kDelivered, Status::kError, Service::kSms, true));
}

TEST(StatusTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Status::kReceived); ++i) {
    const auto s = static_cast<Status>(i);
    EXPECT_EQ(StatusFromName(StatusName(s)), s);
  }
  EXPECT_EQ(StatusFromName("READ"), std::nullopt);
  EXPECT_EQ(ServiceFromName("SMS"), Service::kSms);
  EXPECT_EQ(ServiceName(Service::kIMessage), "iMessage");
}

}  // namespace
}  // namespace bluegate
