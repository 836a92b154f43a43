#include "core/keywords.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(KeywordsTest, StopFamilyOptsOutAndStartFamilyOptsBackIn) {
  for (const char* k : {"STOP", "stop", " Unsubscribe ", "CANCEL", "end", "Quit\n"})
    EXPECT_EQ(OptOutKeyword(k), true) << k;
  for (const char* k : {"START", "unstop"}) EXPECT_EQ(OptOutKeyword(k), false) << k;
  for (const char* k : {"please stop", "STOPPED", "", "hello"})
    EXPECT_EQ(OptOutKeyword(k), std::nullopt) << k;
}

}  // namespace
}  // namespace bluegate
