#include "core/status.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(StatusTest, ForwardMovesAreAllowed) {
  EXPECT_TRUE(CanTransition(Status::kQueued, Status::kAccepted, Service::kIMessage));
}

}  // namespace
}  // namespace bluegate
