// An account's media room: a claimed slot holds room until it is kept (then counted and served)
// or dropped (then given back), and a claim past the limit is refused.
#include "api/media_quota.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/temp_dir.h"

namespace bluegate::api {
namespace {

TEST(MediaQuotaTest, AKeptSlotIsCountedAndServedAndADroppedOneGivesItsRoomBack) {
  testing::TempDir tmp("media-quota");
  const std::string media = tmp.File("media");
  MediaQuota quota(1000);
  {
    auto slot = quota.Claim(7, media, 600);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->allowed(), 600u);
    EXPECT_TRUE(std::filesystem::is_directory(slot->folder())) << "the account's folder is made";
    auto second = quota.Claim(7, media, 600);
    ASSERT_TRUE(second) << "what is left of the limit";
    EXPECT_EQ(second->allowed(), 400u);
    EXPECT_FALSE(quota.Claim(7, media, 1)) << "everything is reserved";
    EXPECT_FALSE(quota.Claim(8, media, 600, 2000)) << "less than at_least is left";
    slot->Keep("a.jpg", 250);
  }  // `second` dropped: its 400 come back
  EXPECT_EQ(quota.Used(7), 250u);
  EXPECT_EQ(quota.Locate("a.jpg"), media + "/a7/a.jpg");
  auto rest = quota.Claim(7, media, 10'000);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->allowed(), 750u);
}

}  // namespace
}  // namespace bluegate::api
