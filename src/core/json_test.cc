#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace bluegate {
namespace {

std::string Nested(size_t depth) {
  std::string s = "{\"a\":";
  for (size_t i = 1; i < depth; ++i) s += '[';
  s += "1";
  for (size_t i = 1; i < depth; ++i) s += ']';
  return s + "}";
}

TEST(JsonTest, ParsesAnObject) {
  rapidjson::Document d;
  ASSERT_TRUE(ParseJson(R"({"number":"+12125550100","n":[1,2,{"x":null}]})", d));
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["number"].GetString(), "+12125550100");
  EXPECT_EQ(d["n"].Size(), 3u);
}

TEST(JsonTest, AcceptsNestingUpToTheLimit) {
  rapidjson::Document d;
  EXPECT_TRUE(ParseJson(Nested(kMaxJsonDepth), d));
}

TEST(JsonTest, RefusesNestingPastTheLimitAndSaysSo) {
  rapidjson::Document d;
  auto r = ParseJson(Nested(kMaxJsonDepth + 1), d);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.too_deep);
  EXPECT_NE(r.error.find("nested deeper than 64 levels"), std::string::npos) << r.error;
  EXPECT_TRUE(d.IsNull());
}

TEST(JsonTest, AHundredAndFiftyThousandLevelsAreRefusedWithoutExhaustingTheStack) {
  std::string deep = "{\"a\":" + std::string(150000, '[') + std::string(150000, ']') + "}";
  rapidjson::Document d;
  auto r = ParseJson(deep, d);
  EXPECT_TRUE(r.too_deep);
  // Unclosed, too: the depth limit is met before the end of input.
  EXPECT_TRUE(ParseJson(std::string(1 << 20, '['), d).too_deep);
}

TEST(JsonTest, RefusesInvalidUtf8) {
  rapidjson::Document d;
  auto r = ParseJson("{\"content\":\"\xff\xfe\"}", d);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.too_deep);
  EXPECT_NE(r.error.find("Invalid encoding"), std::string::npos) << r.error;
}

TEST(JsonTest, RefusesTrailingDataUnlessAllowed) {
  rapidjson::Document d;
  EXPECT_FALSE(ParseJson("{} {}", d));
  EXPECT_TRUE(ParseJson("{}  \r\n", d));
  EXPECT_TRUE(ParseJson("{} trailing", d, kMaxJsonDepth, /*allow_trailing=*/true));
}

TEST(JsonTest, ReportsWhereMalformedInputWentWrong) {
  rapidjson::Document d;
  auto r = ParseJson(R"({"a":1,})", d);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("at offset 7"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace bluegate
