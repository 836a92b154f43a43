#include "carriers/sim/sim_carrier.h"

#include <gtest/gtest.h>

namespace bluegate::carriers::sim {
namespace {

TEST(SimCarrierTest, TestNumbersSelectTheirBehaviourInAnyAreaCode) {
  EXPECT_EQ(BehaviourFor("+12125550100"), SimBehaviour::kDelivered);
  EXPECT_EQ(BehaviourFor("+14155550101"), SimBehaviour::kSmsOnly);
  EXPECT_EQ(BehaviourFor("+13125550102"), SimBehaviour::kFails);
  EXPECT_EQ(BehaviourFor("+12125550103"), SimBehaviour::kNeverResolves);
  EXPECT_EQ(BehaviourFor("+12125550104"), SimBehaviour::kRepliesStop);
  EXPECT_EQ(BehaviourFor("+12125550105"), SimBehaviour::kEchoes);
  EXPECT_EQ(BehaviourFor("+12125550106"), SimBehaviour::kSlow);
  EXPECT_EQ(BehaviourFor("+12125550107"), SimBehaviour::kRead);
}

TEST(SimCarrierTest, OtherNumbersAreDelivered) {
  for (const char* n :
       {"+12125550108", "+12125550110", "+12125550201", "+447911123456", "+12125551102"}) {
    EXPECT_EQ(BehaviourFor(n), SimBehaviour::kDelivered) << n;
  }
}

}  // namespace
}  // namespace bluegate::carriers::sim
