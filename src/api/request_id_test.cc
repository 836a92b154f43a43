#include "api/request_id.h"

#include <gtest/gtest.h>

#include <set>

namespace bluegate::api {
namespace {

TEST(RequestIdTest, AClientsSafeIdIsKept) {
  for (const char* id : {"req-42", "0f1e2d3c-aaaa-bbbb-cccc-000000000001", "a", "x.y_z:1"}) {
    EXPECT_EQ(RequestIdFor(id), id);
  }
  EXPECT_EQ(RequestIdFor(std::string(128, 'a')), std::string(128, 'a'));
}

TEST(RequestIdTest, AnIdUnsafeInAHeaderOrALogLineIsReplaced) {
  for (std::string id : {std::string(""), std::string(129, 'a'), std::string("two words"),
                         std::string("a\r\nSet-Cookie: x=1"), std::string("quote\""),
                         std::string("caf\xc3\xa9"), std::string("tab\t"), std::string("{json}")}) {
    EXPECT_FALSE(IsSafeRequestId(id)) << id;
    const std::string got = RequestIdFor(id);
    EXPECT_NE(got, id);
    EXPECT_TRUE(IsSafeRequestId(got));
  }
}

TEST(RequestIdTest, NewIdsAreSixteenHexDigitsAndEachDiffers) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = RequestIdFor(std::nullopt);
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace bluegate::api
