#include "core/send_request.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

SendRequest Valid() {
  SendRequest r;
  r.number = "+14155550100";
  r.from_number = "+12125550199";
  r.content = "hello";
  return r;
}

std::string ErrorOf(const SendRequest& r) {
  PhoneNumbers phones({"+13125550111"});
  auto v = ValidateSend(r, phones);
  return v.ok() ? "" : v.error().message;
}

TEST(SendRequestTest, AValidRequestIsNormalised) {
  PhoneNumbers phones;
  SendRequest r = Valid();
  r.number = "+1 (415) 555-0100";
  auto v = ValidateSend(r, phones);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->contact, "+14155550100");
  EXPECT_EQ(v->line, "+12125550199");
  EXPECT_EQ(v->content, "hello");
}

TEST(SendRequestTest, NumberIsRequiredAndMustBeE164) {
  SendRequest r = Valid();
  r.number.reset();
  EXPECT_EQ(ErrorOf(r), "number is required: the recipient's phone number in E.164 format");
  r.number = "4155550100";
  EXPECT_NE(ErrorOf(r).find("number must be a phone number in E.164 format"), std::string::npos);
  r.number = "+19998887777";
  EXPECT_NE(ErrorOf(r).find("is not a valid phone number"), std::string::npos);
}

TEST(SendRequestTest, EmergencyAndBlockedNumbersAreBlacklisted) {
  PhoneNumbers phones({"+13125550111"});
  for (const char* n : {"911", "+1911", "112", "999", "+44999", "+13125550111"}) {
    SendRequest r = Valid();
    r.number = n;
    auto v = ValidateSend(r, phones);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error().kind, ErrorKind::kBlocked) << n;
    EXPECT_EQ(v.error().code, ErrorCode::kBlacklisted) << n;
  }
}

TEST(SendRequestTest, ContentOrMediaIsRequired) {
  SendRequest r = Valid();
  r.content.reset();
  EXPECT_NE(ErrorOf(r).find("content or media_url is required"), std::string::npos);
  r.media_url = "https://cdn.example.com/pic.png";
  EXPECT_EQ(ErrorOf(r), "");
}

TEST(SendRequestTest, ContentLimitCountsCharactersNotBytes) {
  SendRequest r = Valid();
  std::string ok;
  for (int i = 0; i < 18995; ++i) ok += "\xc3\xa9";  // é
  r.content = ok;
  EXPECT_EQ(ErrorOf(r), "");
  r.content = ok + "x";
  EXPECT_NE(ErrorOf(r).find("content is too long: 18996 characters"), std::string::npos);
}

TEST(SendRequestTest, MediaUrlNeedsHttpAndAFileExtension) {
  SendRequest r = Valid();
  r.media_url = "ftp://x.com/a.png";
  EXPECT_NE(ErrorOf(r).find("media_url must be an http or https URL"), std::string::npos);
  r.media_url = "https://x.com/folder.d/file";
  EXPECT_NE(ErrorOf(r).find("media_url must end in a file extension"), std::string::npos);
  r.media_url = "https://x.com/voice.caf?sig=1#frag";
  EXPECT_EQ(ErrorOf(r), "");
}

TEST(SendRequestTest, SendStyleMustBeKnown) {
  SendRequest r = Valid();
  for (const char* s : {"celebration", "shooting_star", "fireworks", "lasers", "love", "confetti",
                        "balloons", "spotlight", "echo", "invisible", "gentle", "loud", "slam"}) {
    r.send_style = s;
    EXPECT_EQ(ErrorOf(r), "") << s;
  }
  r.send_style = "Slam";
  EXPECT_NE(ErrorOf(r).find("send_style \"Slam\" is not one of"), std::string::npos);
}

TEST(SendRequestTest, StatusCallbackMustBeAnHttpUrl) {
  SendRequest r = Valid();
  r.status_callback = "mailto:a@b.c";
  EXPECT_EQ(ErrorOf(r), "status_callback must be an http or https URL");
  r.status_callback = "https://hooks.example.com/sb";
  EXPECT_EQ(ErrorOf(r), "");
}

TEST(SendRequestTest, UnsupportedFieldsAreRefusedByName) {
  SendRequest r = Valid();
  r.unsupported = {"app_card"};
  EXPECT_EQ(ErrorOf(r), "app_card is not supported by bluegate yet");
}

}  // namespace
}  // namespace bluegate
