#include "core/text.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(TextTest, HeaderValuesMayNotEndTheirHeader) {
  EXPECT_TRUE(IsHeaderSafe("whsec_abc 123\tdef"));
  EXPECT_FALSE(IsHeaderSafe("secret\r\nHost: evil.example"));
  EXPECT_FALSE(IsHeaderSafe("a\nb"));
  EXPECT_FALSE(IsHeaderSafe(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsHeaderSafe("a\x7f"));
}

TEST(TextTest, Utf8IsValidatedStrictly) {
  EXPECT_TRUE(IsValidUtf8("Hello, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf")) << "overlong";
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80")) << "a surrogate";
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8")) << "cut short";
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80")) << "past U+10FFFF";
}

TEST(TextTest, LogTextCannotForgeALine) {
  EXPECT_EQ(ForLog("ok \xe2\x9c\x93"), "ok \xe2\x9c\x93");
  EXPECT_EQ(ForLog("a\r\n[error] forged"), "a\\x0d\\x0a[error] forged");
  EXPECT_EQ(ForLog("\xff"), "\\xff");
  EXPECT_EQ(ForLog("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace bluegate
